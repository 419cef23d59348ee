from django.urls import path

from suppliers.api.views import (
    SupplierDetailsView,
    SupplierOrderAcknowledgeView,
    SupplierOrderCancelView,
    SupplierOrderDeliverView,
    SupplierOrderDetailView,
    SupplierOrderListView,
    SupplierOrderShipView,
    SupplierPerformanceView,
)

urlpatterns = [
    path("suppliers/<int:supplier_id>/performance/", SupplierPerformanceView.as_view(), name="supplier-performance"),
    path("suppliers/<int:supplier_id>/details/", SupplierDetailsView.as_view(), name="supplier-details"),
    path("supplier-orders/", SupplierOrderListView.as_view(), name="supplier-order-list"),
    path("supplier-orders/<uuid:supplier_order_id>/", SupplierOrderDetailView.as_view(), name="supplier-order-detail"),
    path(
        "supplier-orders/<uuid:supplier_order_id>/acknowledge/",
        SupplierOrderAcknowledgeView.as_view(),
        name="supplier-order-acknowledge",
    ),
    path("supplier-orders/<uuid:supplier_order_id>/ship/", SupplierOrderShipView.as_view(), name="supplier-order-ship"),
    path(
        "supplier-orders/<uuid:supplier_order_id>/deliver/",
        SupplierOrderDeliverView.as_view(),
        name="supplier-order-deliver",
    ),
    path(
        "supplier-orders/<uuid:supplier_order_id>/cancel/",
        SupplierOrderCancelView.as_view(),
        name="supplier-order-cancel",
    ),
]
