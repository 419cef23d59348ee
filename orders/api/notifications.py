"""Notifications API: a user's notifications, marking them read, and which kinds they get by email."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import Notification
from orders.notifications import (
    email_preferences_of,
    email_preferences_set,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_of,
)
from sleekbatch.api_docs import ERRORS_AUTHENTICATED, paginated
from sleekbatch.pagination import NewestFirstCursorPagination


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "order", "subject", "body", "read", "read_at", "created_at"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class EmailPreferencesSerializer(serializers.Serializer):
    """Per kind, whether the user gets an email (true) or only the notification on the API (false)."""

    def get_fields(self):
        return {kind: serializers.BooleanField(required=False) for kind in Notification.Kind.values}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(Notification.Kind.values))
            if unknown:
                raise ValidationError({name: ["Unknown notification kind."] for name in unknown})
        values = super().to_internal_value(data)
        for kind, value in data.items() if isinstance(data, dict) else ():
            if not isinstance(value, bool):
                raise ValidationError({kind: ["Must be true or false."]})
        return values


class NotificationListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="only the unread ones")],
        responses={200: paginated(NotificationSerializer), **ERRORS_AUTHENTICATED},
    )
    def get(self, request):
        """What happened to your orders, newest first."""
        unread = request.query_params.get("unread")
        if unread not in (None, "true", "false"):
            raise ValidationError({"unread": ["Use true or false."]})
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(
            notifications_of(request.user, unread_only=unread == "true"), request, view=self
        )
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer, **ERRORS_AUTHENTICATED})
    def post(self, request, notification_id):
        """Mark one notification read (again is fine)."""
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
        if notification is None:
            raise NotFound("No such notification.")
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()}),
            **ERRORS_AUTHENTICATED,
        },
    )
    def post(self, request):
        """Mark every unread notification read."""
        return Response({"marked": notifications_mark_all_read(user=request.user)})


class EmailPreferencesView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: EmailPreferencesSerializer, **ERRORS_AUTHENTICATED})
    def get(self, request):
        """Which kinds of notification you get by email."""
        return Response(email_preferences_of(request.user))

    @extend_schema(
        request=EmailPreferencesSerializer, responses={200: EmailPreferencesSerializer, **ERRORS_AUTHENTICATED}
    )
    def patch(self, request):
        """Turn emails of some kinds off (false) or on (true); kinds not named keep their setting."""
        serializer = EmailPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(email_preferences_set(user=request.user, preferences=serializer.validated_data))
