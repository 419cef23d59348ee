from django.apps import AppConfig


class SleekbatchConfig(AppConfig):
    name = "sleekbatch"
    verbose_name = "sleekbatch"
