"""Prometheus metrics with prometheus_client: request rate and latency per endpoint (shared by the gunicorn
workers through PROMETHEUS_MULTIPROC_DIR), and figures computed when Prometheus scrapes (open and overdue
appeals per department), plus the hook other parts use to add their own scrape-time figures.

Adding a scrape-time figure (e.g. the job queue's length and failures)::

    from gaoxin import metrics
    from prometheus_client.core import GaugeMetricFamily

    def job_figures():
        family = GaugeMetricFamily("gaoxin_job_queue_length", "Jobs waiting in the queue.")
        family.add_metric([], queue.pending_count())
        yield family

    metrics.register_collector("jobs", job_figures)

`register_collector(name, function)`: `function()` is called on every scrape, inside the app context of the
/metrics request (so it may query the database through `db.session`), and returns or yields
`prometheus_client.core.*MetricFamily` objects. Keep it to one cheap, indexed query. Registering the same
name again replaces the function (safe when create_app runs more than once). A function that raises does not
break the scrape: its figures are left out and `gaoxin_scrape_errors{collector="<name>"}` is 1.
Counters that change while the app runs (not at scrape time) belong in module-level prometheus_client
objects like REQUESTS below: they are summed over the workers in multiprocess mode.
"""
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

#: Requests answered, by endpoint, method and status: the request rate is rate() of this.
REQUESTS = Counter("gaoxin_http_requests", "HTTP requests answered.", ["endpoint", "method", "status"],
                   registry=None)
#: Server time per request, by endpoint and method (the inbox poll sits in the first bucket).
LATENCY = Histogram("gaoxin_http_request_duration_seconds", "Server time per request.", ["endpoint", "method"],
                    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=None)

_collectors = {}


def register_collector(name, function):
    """Call `function()` at every scrape for metric families (see the module docstring)."""
    _collectors[name] = function


#: (endpoint, method, status) → (counter child, histogram child): one dict lookup per request instead of two
#: label lookups (an endpoint has few methods and statuses, so this stays small).
_children = {}


def observe_request(endpoint, method, status, seconds):
    key = (endpoint, method, status)
    children = _children.get(key)
    if children is None:
        name = endpoint or "unmatched"
        children = _children[key] = (REQUESTS.labels(name, method, str(status)), LATENCY.labels(name, method))
    children[0].inc()
    children[1].observe(seconds)


def allowed_networks(setting):
    """The networks of GAOXIN_METRICS_ALLOW ("127.0.0.1/32, 10.0.0.0/8"); raises ValueError naming a bad one."""
    networks = []
    for item in setting.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"GAOXIN_METRICS_ALLOW: “{item.strip()}” 不是地址或网段（CIDR）") from exc
    return tuple(networks)


def may_read(networks, address):
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


class _ScrapeCollector:
    """The registered functions, run on each scrape."""

    def collect(self):
        errors = GaugeMetricFamily("gaoxin_scrape_errors", "1 when a scrape-time collector failed.",
                                   labels=["collector"])
        for name, function in list(_collectors.items()):
            try:
                families = list(function())
            except Exception:  # noqa: BLE001 - one broken figure must not hide the others
                from . import logs

                logs.log.exception("metrics collector failed", collector=name)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors


def exposition(multiprocess_dir):
    """(body, content type) of a scrape: the request series summed over the workers when `multiprocess_dir`
    is set, else this process's; then the scrape-time figures."""
    registry = CollectorRegistry()
    if multiprocess_dir:
        MultiProcessCollector(registry, path=multiprocess_dir)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_ScrapeCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def appeal_figures():
    """Open and overdue appeals per department: one grouped query each on (lead unit, state[, due])."""
    from .services import figures
    from .services.calendar import today

    open_now, overdue_now, names = figures.open_and_overdue_now(today())
    open_family = GaugeMetricFamily("gaoxin_open_appeals", "Appeals open with a department now.",
                                    labels=["department"])
    overdue_family = GaugeMetricFamily("gaoxin_overdue_appeals", "Open appeals past their running deadline now.",
                                       labels=["department"])
    for unit_id, count in sorted(open_now.items()):
        open_family.add_metric([names.get(unit_id, str(unit_id))], count)
    for unit_id, count in sorted(overdue_now.items()):
        overdue_family.add_metric([names.get(unit_id, str(unit_id))], count)
    yield open_family
    yield overdue_family


register_collector("appeals", appeal_figures)
