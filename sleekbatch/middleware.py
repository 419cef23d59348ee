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


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every HTML page (admin, dashboard, docs): scripts, styles,
    fonts and images from this site only, no plugins, not framed. A view that needs another
    policy sets the header itself; this one is then left alone. JSON answers need none."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
