from django.urls import path

from batches.api.views import BatchApproveView, BatchCancelView, BatchDetailView, BatchExtendView, BatchListView

urlpatterns = [
    path("batches/", BatchListView.as_view(), name="batch-list"),
    path("batches/<uuid:batch_id>/", BatchDetailView.as_view(), name="batch-detail"),
    path("batches/<uuid:batch_id>/approve/", BatchApproveView.as_view(), name="batch-approve"),
    path("batches/<uuid:batch_id>/cancel/", BatchCancelView.as_view(), name="batch-cancel"),
    path("batches/<uuid:batch_id>/extend/", BatchExtendView.as_view(), name="batch-extend"),
]
