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
