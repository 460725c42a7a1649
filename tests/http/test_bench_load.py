"""The HTTP benchmark reads wrk's report right (bench/http/load.py): its figures and error
counts are what the docs quote."""

from __future__ import annotations

from bench.http.load import parse_wrk

REPORT = """Running 10s test @ http://127.0.0.1:8000/graphql/
  1 threads and 500 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s   300.00ms   2.50s    70.00%
    Req/Sec   410.00     50.00   500.00     80.00%
  Latency Distribution
     50%    1.15s
     75%    1.30s
     90%    1.60s
     99%    2.40s
  4100 requests in 10.01s, 2.87MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    409.59
Transfer/sec:    293.45KB
"""

CLEAN = """  Latency Distribution
     50%  812.00us
     99%    3.41ms
  1200 requests in 3.00s, 1.00MB read
Requests/sec:    399.87
"""


def test_errors_latencies_and_rates_are_read_from_the_report():
    assert parse_wrk(REPORT) == {
        "requests": 4100,
        "rps": 409.59,
        "p50_ms": 1150.0,
        "p99_ms": 2400.0,
        "non_2xx": 7,
        "socket_errors": 5,
    }


def test_a_clean_report_has_no_errors():
    parsed = parse_wrk(CLEAN)
    assert (parsed["non_2xx"], parsed["socket_errors"]) == (0, 0)
    assert parsed["p50_ms"] == 0.812
    assert parsed["p99_ms"] == 3.41
