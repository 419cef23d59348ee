"""One API view for a lifecycle move (a batch decision, a supplier order's step): 404 when the caller
cannot see the object, 400 for bad input or impossible data (nothing stored), 409 when the object's
current status does not allow the move, else 200 with the object as it is now."""

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView


class TransitionView(APIView):
    """Subclasses name what they move and how; ``post`` (with its schema) calls ``transition_post``.

    - ``visible(user)``: the objects the caller may move (another's object is a 404).
    - ``input_serializer``: validates the body (None: the body is not read).
    - ``move(object_id=…, actor=…, data=…)``: the service call; returns the moved object.
    - ``conflict_errors`` → 409 with ``conflict_body(exc)``; ``invalid_errors`` (with ``errors``
      by field) → 400.
    - ``output_serializer``: the 200 answer, from the object read again through ``visible``.
    """

    input_serializer: type[Serializer] | None = None
    output_serializer: type[Serializer]
    conflict_errors: tuple[type[Exception], ...] = ()
    invalid_errors: tuple[type[Exception], ...] = ()

    def visible(self, user) -> QuerySet:
        raise NotImplementedError

    def move(self, *, object_id, actor, data: dict) -> Model:
        raise NotImplementedError

    def conflict_body(self, exc: Exception) -> dict:
        return {"detail": str(exc)}

    def transition_post(self, request, object_id) -> Response:
        get_object_or_404(self.visible(request.user), id=object_id)
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        try:
            moved = self.move(object_id=object_id, actor=request.user, data=data)
        except self.invalid_errors as exc:
            raise ValidationError(exc.errors) from exc
        except self.conflict_errors as exc:
            return Response(self.conflict_body(exc), status=status.HTTP_409_CONFLICT)
        return Response(self.output_serializer(self.visible(request.user).get(id=moved.id)).data)
