from sleekbatch.correlation import HEADER, clean_correlation_id, reset_correlation_id, set_correlation_id


class CorrelationIdMiddleware:
    """Gives every request a correlation id and echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = clean_correlation_id(request.headers.get(HEADER))
        request.correlation_id = correlation_id
        token = set_correlation_id(correlation_id)
        try:
            response = self.get_response(request)
        finally:
            reset_correlation_id(token)
        response[HEADER] = correlation_id
        return response
