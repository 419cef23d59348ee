from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Newest first, by cursor rather than page number.

    Orders and batches arrive by the thousand per second: numbered pages would shift
    under the reader, and a COUNT(*) over every row on each page would cost more than
    the page itself.
    """

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        """The cursor, or a 400: one that does not decode, or whose position is not a timestamp
        (a forged cursor would otherwise reach the database as a date and fail there, a 500)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # well-formed but impossible, such as month 13
                valid = False
            if not valid:
                raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor
