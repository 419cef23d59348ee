"""The project's URLs with the bench's ceiling view mounted, as SLEEKBATCH_BENCH_VIEWS mounts it."""

from bench.ceiling import urlpatterns as bench_urlpatterns
from sleekbatch.urls import urlpatterns as project_urlpatterns

urlpatterns = project_urlpatterns + bench_urlpatterns
