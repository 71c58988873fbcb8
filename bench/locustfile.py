"""Load for one page, run by locust headless in a process of its own (its own virtualenv,
`.venv-bench`; no Django here). Each user requests the page in a closed loop with no
think time, so N users keep N requests in flight against the server.

Read from the environment: BENCH_PATH (the page), BENCH_SESSION (the `sessionid` cookie),
BENCH_SAMPLES (where to write every request's start time, duration and outcome as JSON).
Anything but a 200 counts as an error, redirects included: a lost session would
otherwise show up as a fast login page."""

import json
import os
import time

from locust import FastHttpUser, constant, events, task

PATH = os.environ.get("BENCH_PATH", "/")
SESSION = os.environ.get("BENCH_SESSION", "")
SAMPLES_FILE = os.environ.get("BENCH_SAMPLES", "")

_samples: list[list] = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    start = kwargs.get("start_time") or (time.time() - response_time / 1000)
    _samples.append([round(start, 4), round(response_time, 3), exception is None])


@events.quitting.add_listener
def _write(environment, **kwargs):
    if SAMPLES_FILE:
        with open(SAMPLES_FILE, "w") as out:
            json.dump(_samples, out)


class PageUser(FastHttpUser):
    wait_time = constant(0)
    # One connection per user, kept alive where the server allows it.
    concurrency = 1

    @task
    def page(self):
        headers = {"Cookie": f"sessionid={SESSION}"} if SESSION else {}
        with self.client.get(
            PATH, headers=headers, allow_redirects=False, catch_response=True, name=PATH
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
