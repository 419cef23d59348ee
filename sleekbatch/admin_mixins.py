"""Admin building blocks shared by the apps."""


class WorkflowOwnedAdmin:
    """A model whose rows only the workflow writes: anyone with the view permission may look, nobody
    (superusers included) adds, edits or deletes one by hand — that would go around the state machine.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
