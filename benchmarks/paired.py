"""Paired measurements for a shared machine: ``python -m benchmarks.paired sqlite 10000``.

gemini and the raw driver alternate operation by operation (a batch of 1,000, a durable single create,
a broad search), so both see the same load from other processes, and the ratio of each pair is kept;
the medians of those ratios are printed as one JSON line, with the one-match search and the hot-key
range in milliseconds. ``make bench`` measures each side in its own block of time, which a busy
machine skews by several times.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

import psycopg

backend, size = sys.argv[1], int(sys.argv[2])
tmp = tempfile.mkdtemp(prefix="gemini-paired-")
SERVER = os.environ.get("GEMINI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres").replace("+psycopg", "")
BASE = SERVER.rsplit("/", 1)[0]
pg_names = []
def pg_db(label):
    name = f"gemini_paired_{label}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(SERVER, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    pg_names.append(name)
    return name
if backend == "sqlite":
    os.environ["GEMINI_DATABASE_URL"] = f"sqlite:///{tmp}/g.db"
else:
    os.environ["GEMINI_DATABASE_URL"] = BASE.replace("postgresql://", "postgresql+psycopg://") + "/" + pg_db("g")
from benchmarks import workload
from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.core import info_indexes
from gemini.db.engine import dispose_engines

def raw_rows(start, count):
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    out = []
    for _, info in workload.runs(count, start=start):
        text = json.dumps(info, separators=(",", ":"))
        out.append((uuid.uuid4().hex, None, text, hashlib.sha256(text.encode()).hexdigest(), now, now))
    return out

if backend == "sqlite":
    raw = sqlite3.connect(f"{tmp}/raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL"); raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE raw_runs (id CHAR(32) PRIMARY KEY, model_id CHAR(32), info TEXT NOT NULL, info_hash VARCHAR(64) NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    P = "?"
    def raw_many(rows):
        raw.execute("BEGIN"); raw.executemany("INSERT INTO raw_runs VALUES (?,?,?,?,?,?)", rows); raw.execute("COMMIT")
    def raw_one(row):
        raw.execute("BEGIN IMMEDIATE"); raw.execute("INSERT INTO raw_runs VALUES (?,?,?,?,?,?)", row); raw.execute("COMMIT")
    def raw_broad(site):
        rows = raw.execute("SELECT * FROM raw_runs WHERE json_extract(info, '$.data.site') = ?", (site,)).fetchall()
        for row in rows: uuid.UUID(row[0]); json.loads(row[2])
        return len(rows)
else:
    raw = psycopg.connect(f"{BASE}/{pg_db('r')}", autocommit=True)
    raw.execute("CREATE TABLE raw_runs (id uuid PRIMARY KEY, model_id uuid, info json NOT NULL, info_hash varchar(64) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)")
    def raw_many(rows):
        with raw.transaction(), raw.cursor() as cur:
            cur.executemany("INSERT INTO raw_runs VALUES (%s,%s,%s,%s,%s,%s)", rows)
    def raw_one(row):
        with raw.transaction():
            raw.execute("INSERT INTO raw_runs VALUES (%s,%s,%s,%s,%s,%s)", row)
    def raw_broad(site):
        rows = raw.execute("SELECT id, model_id, info::text, created_at FROM raw_runs WHERE info::jsonb @> %s::jsonb", (json.dumps({"data": {"site": site}}),)).fetchall()
        for row in rows: uuid.UUID(str(row[0])); json.loads(row[2])
        return len(rows)

def timed(fn, *args):
    t = time.perf_counter(); fn(*args); return (time.perf_counter() - t) * 1000

for index in range(workload.MODEL_COUNT):
    registry().create_model(model_name=workload.model_name(index))
many_pairs = []
for start in range(0, size, 1000):
    infos = [info for _, info in workload.runs(1000, start=start)]
    rows = raw_rows(start, 1000)
    g = timed(lambda: ModelRun.create_many(infos, model_name=workload.model_name(start // 1000)))
    r = timed(raw_many, rows)
    many_pairs.append(r / g)  # rate ratio = raw time / gemini time
if backend == "postgresql":
    raw.execute("CREATE INDEX ON raw_runs USING gin ((info::jsonb) jsonb_path_ops)"); raw.execute("ANALYZE raw_runs")
else:
    raw.execute("CREATE INDEX raw_site ON raw_runs (json_extract(info, '$.data.site'))")
extra = list(workload.runs(300, start=size)); extra_rows = raw_rows(size + 1000, 300)
one_pairs, one_g, one_r = [], [], []
for i in range(300):
    g = timed(lambda: ModelRun.create(model_run_info=extra[i][1], model_name=extra[i][0]))
    r = timed(raw_one, extra_rows[i])
    one_pairs.append(g / r); one_g.append(g); one_r.append(r)
broad_pairs = []
for i in range(20):
    site = workload.SITES[i % len(workload.SITES)]
    g = timed(lambda: ModelRun.search(model_run_info={"data": {"site": site}}))
    r = timed(raw_broad, site)
    broad_pairs.append(g / r)
one_match = [timed(lambda: ModelRun.search(model_run_info={"data": {"sample_id": f"S{(i * 7919) % size:09d}"}})) for i in range(100)]
info_indexes.add_hot_key(path="params.lr"); info_indexes.add_hot_key(path="metrics.map50")
hot = [timed(lambda: ModelRun.search(where="params.lr < 0.00002 and metrics.map50 >= 0.5", order_by="-metrics.map50", limit=100)) for _ in range(30)]
med = statistics.median
print(json.dumps(dict(backend=backend, size=size, load=os.getloadavg(),
    create_one_vs_raw=round(med(one_pairs), 2), create_one_ms=round(med(one_g), 3), raw_insert_commit_ms=round(med(one_r), 3),
    create_many_rate_vs_raw=round(med(many_pairs), 3), broad_vs_raw=round(med(broad_pairs), 2),
    one_match_ms=round(med(one_match), 3), hot_range_ms=round(med(hot), 2))))
dispose_engines(); raw.close()
shutil.rmtree(tmp, ignore_errors=True)
if pg_names:
    with psycopg.connect(SERVER, autocommit=True) as c:
        for name in pg_names: c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
