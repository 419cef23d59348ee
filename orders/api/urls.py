from django.urls import path

from orders.api.notifications import (
    EmailPreferencesView,
    NotificationListView,
    NotificationReadAllView,
    NotificationReadView,
)
from orders.api.views import OrderBulkCreateView, OrderDetailView, OrderListCreateView

urlpatterns = [
    path("orders/", OrderListCreateView.as_view(), name="order-list"),
    path("orders/bulk/", OrderBulkCreateView.as_view(), name="order-bulk"),
    path("orders/<uuid:order_id>/", OrderDetailView.as_view(), name="order-detail"),
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/read-all/", NotificationReadAllView.as_view(), name="notification-read-all"),
    path("notifications/<int:notification_id>/read/", NotificationReadView.as_view(), name="notification-read"),
    path("notifications/email-preferences/", EmailPreferencesView.as_view(), name="notification-email-preferences"),
]
