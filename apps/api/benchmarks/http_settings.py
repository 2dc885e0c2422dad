"""Settings for ``bench_lists_http.py`` only: the production settings plus the benchmark's own URLconf, which mounts
the baseline view beside the real API. Never used by the deployed service (its URLconf is ``config.urls``)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "apps.api.benchmarks.http_urls"
