"""DRF's content negotiation with a shortcut for the usual API client, which sends no ``Accept`` header
(or ``*/*``, or ``application/json``): JSON at once, without parsing media types on every request."""

from rest_framework.negotiation import DefaultContentNegotiation

_JSON = "application/json"
_ANY_JSON_ACCEPT = frozenset({None, "*/*", _JSON})


class JSONFirstContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        # Exactly DRF's answer in these cases (the first renderer, its own media type); anything
        # else (a browser's Accept list, ?format=) goes through DRF's negotiation.
        if (
            renderers
            and renderers[0].media_type == _JSON
            and request.META.get("HTTP_ACCEPT") in _ANY_JSON_ACCEPT
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], _JSON
        return super().select_renderer(request, renderers, format_suffix)
