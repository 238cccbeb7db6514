#!/usr/bin/env python3
"""Send reviews to the sentiment-fleet ingest API and read their results, with the Python
standard library only (urllib): no package to install.

    python3 docs/examples/send_reviews.py                           # three sample reviews
    python3 docs/examples/send_reviews.py --url http://127.0.0.1:3000 --api-key "$KEY" reviews.jsonl

The contract is docs/openapi.json (served at /openapi.json, browsable at /docs):
- 202: accepted; `duplicates` lists ids that were already queued or processed.
- 400: nothing was enqueued; `error.problems` names every invalid field ([3].text, ...).
- 413: too many reviews, or too large: send fewer per request.
- 429 / 503: try again after the Retry-After header's seconds (backlog full, Redis away,
  shutting down, or over the key's rate limit).
- GET /v1/results/{id}: 404 until the review is scored and stored.

Exit status: 0 when every review was accepted (and, with --wait, every result read), 1 otherwise.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# The largest request the API takes by default (MAX_REVIEWS_PER_REQUEST).
BATCH = 1000


class ApiError(Exception):
    """A 4xx or 5xx answer: its status, registry code (SF_ERR_...), message and problems."""

    def __init__(self, status, body, retry_after=None):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "HTTP_%d" % status)
        self.message = error.get("message", "")
        self.problems = error.get("problems", [])
        self.retry_after = retry_after
        super().__init__("%d %s: %s" % (status, self.code, self.message))


class Client:
    def __init__(self, base_url, api_key=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method, path, body=None):
        """One request; returns (status, parsed JSON body), raises ApiError for 4xx and 5xx."""
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["content-type"] = "application/json"
        if self.api_key:
            headers["authorization"] = "Bearer " + self.api_key
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, json.load(res)
        except urllib.error.HTTPError as err:
            try:
                payload = json.load(err)
            except ValueError:
                payload = {}
            retry_after = err.headers.get("retry-after")
            raise ApiError(err.code, payload, int(retry_after) if retry_after and retry_after.isdigit() else None) from None

    def send_reviews(self, reviews, retries=5):
        """POST /v1/reviews, waiting as told by Retry-After on 429 and 503 (at most `retries` times)."""
        for attempt in range(retries + 1):
            try:
                return self.request("POST", "/v1/reviews", reviews)[1]
            except ApiError as err:
                if err.status not in (429, 503) or attempt == retries:
                    raise
                wait = err.retry_after or 5
                print("%d %s: retrying in %d s" % (err.status, err.code, wait), file=sys.stderr)
                time.sleep(wait)

    def result(self, review_id):
        """The latest stored result of a review, or None while it is not scored (404)."""
        try:
            return self.request("GET", "/v1/results/" + urllib.parse.quote(review_id, safe=""))[1]["results"][0]
        except ApiError as err:
            if err.status == 404:
                return None
            raise


def read_reviews(path):
    """Reviews from a JSON Lines file, one review object per line."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sample_reviews():
    run = time.strftime("%Y%m%d%H%M%S")
    return [
        {"id": "py-%s-1" % run, "productId": "p1", "text": "Battery lasts two days, love it.", "rating": 5, "locale": "en"},
        {"id": "py-%s-2" % run, "productId": "p1", "text": "Stopped charging after a week. Waste of money.", "rating": 1},
        {"id": "py-%s-3" % run, "productId": "p1", "text": "Does exactly what I wanted.", "metadata": {"channel": "web"}},
    ]


def print_problems(err):
    print("%d %s: %s" % (err.status, err.code, err.message), file=sys.stderr)
    for problem in err.problems:
        print("  %s: %s" % (problem["path"], problem["message"]), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description="Send reviews to the ingest API and read their results.")
    parser.add_argument("file", nargs="?", help="a JSON Lines file of reviews (default: three samples)")
    parser.add_argument("--url", default=os.environ.get("SF_URL", "http://127.0.0.1:3000"), help="the ingest API (env SF_URL)")
    parser.add_argument("--api-key", default=os.environ.get("SF_API_KEY"), help="an API key with the write and read scopes (env SF_API_KEY)")
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the results (0: do not read them)")
    parser.add_argument("--show-invalid", action="store_true", help="also send an invalid review, to show a 400")
    args = parser.parse_args()

    client = Client(args.url, args.api_key)
    reviews = read_reviews(args.file) if args.file else sample_reviews()
    ok = True
    ids = []
    for start in range(0, len(reviews), BATCH):
        try:
            answer = client.send_reviews(reviews[start:start + BATCH])
        except ApiError as err:
            print_problems(err)  # 400: nothing of this request was enqueued: fix and send again
            ok = False
            continue
        print("accepted %d, duplicates %d" % (answer["accepted"], len(answer["duplicates"])))
        ids.extend(answer["ids"])

    if args.show_invalid:
        try:
            client.send_reviews([{"id": "bad-1", "text": "   ", "rating": 9}])
        except ApiError as err:
            print_problems(err)

    deadline = time.monotonic() + args.wait
    pending = list(ids) if args.wait > 0 else []
    while pending:
        for review_id in list(pending):
            result = client.result(review_id)
            if result is not None:
                print("%s: %s (%.2f)" % (review_id, result["label"], result["score"]))
                pending.remove(review_id)
        if pending and time.monotonic() > deadline:
            print("no result yet for %d reviews after %g s" % (len(pending), args.wait), file=sys.stderr)
            ok = False
            break
        if pending:
            time.sleep(0.5)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except urllib.error.URLError as err:  # no answer at all: wrong URL, service down
        print("cannot reach the ingest API: %s" % err.reason, file=sys.stderr)
        sys.exit(1)
