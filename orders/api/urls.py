from django.urls import path

from orders.api.views import OrderBulkCreateView, OrderDetailView, OrderListCreateView

urlpatterns = [
    path("orders/", OrderListCreateView.as_view(), name="order-list"),
    path("orders/bulk/", OrderBulkCreateView.as_view(), name="order-bulk"),
    path("orders/<uuid:order_id>/", OrderDetailView.as_view(), name="order-detail"),
]
