"""What bench/core_link measured around the runs of a bench (stdlib only; imported by the reports).

A run whose probe read more than SLOW_NS before or after it ran while (part of the time) the two
CPUs were far apart: on these VMs the same W1 run then takes up to 1.8x the CPU
(docs/benchmarks.md). Ratios between two pipelines are only fair between runs made in the same
state, so the reports give the ratio over the runs made in the fast state as well.
"""
import statistics

SLOW_NS = 250


def fast(run):
    link = run.get("core_link_ns")
    return link is not None and max(link) <= SLOW_NS


def summary(runs):
    """One Markdown line: the probe's range and how many runs were made in each state."""
    probed = [r for r in runs if "core_link_ns" in r]
    if not probed:
        return "- core link: not measured (bench/core_link.c needs gcc and two CPUs)"
    values = [v for r in probed for v in r["core_link_ns"]]
    slow = [r["name"] for r in probed if not fast(r)]
    return "- core link (a cache line's round trip between CPUs 0 and 1, before/after each run): %g-%g ns; %s" % (
        min(values), max(values),
        "every run in the fast state (<= %d ns)" % SLOW_NS if not slow else
        "%d of %d runs touched the slow state (> %d ns): %s" % (len(slow), len(probed), SLOW_NS, ", ".join(slow)))


def fast_ratio(runs, base, variant):
    """events/s of `variant` over `base` by median wall times of the fast-state runs, or None."""
    a = [r["wall_s"] for r in runs if r["name"] == base and r["exit"] == 0 and fast(r)]
    b = [r["wall_s"] for r in runs if r["name"] == variant and r["exit"] == 0 and fast(r)]
    if not a or not b:
        return None
    return statistics.median(a) / statistics.median(b), len(a), len(b)
