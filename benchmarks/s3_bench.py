"""Artifacts on an S3 bucket through ``gemini serve``, beside boto3 alone against the same S3 server.

1. One large artifact (1 GiB by default): upload and download through a server whose store is the bucket
   (the client hashes the file, the server signs, the bytes go to the bucket directly), against boto3
   alone on the same file and server, both ways it has: its managed ``upload_file``/``download_file``
   (parts or ranges, 10 threads) and one plain ``put_object``/``get_object``; the ratio is taken against
   the faster. The server's CPU time during each transfer is read from /proc: the bytes should bypass it.
2. A YOLO-sized run (20 artifacts, 30 MB in all, as an Ultralytics training leaves them) logged through a
   server on the bucket, through a server on a local directory, and put into the bucket by boto3 alone
   (as many files at once as the client sends): the floor the S3 server sets; and by boto3 followed by
   a HEAD of each object, the S3 requests that the bucket path cannot do without.

The S3 server is moto's S3 endpoint on loopback (tests/s3_support.py), the one the tests use, unless
``--endpoint`` names another (MinIO, AWS S3, any S3-compatible store): its keys and region come from the
standard AWS variables, and the bucket gemini-test is made there when missing. For the large artifact,
moto's objects and the benchmark's files live in memory (/dev/shm, where there is one): on a virtual
disk, write-back stalls moved single 1 GiB transfers by 2x either way, whoever made them. The YOLO-sized
run keeps its databases and its local directory on disk, where a registry keeps them.

    python -m benchmarks.s3_bench [--mib 1024] [--repeats 5] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.serving import served
from gemini.domain.limits import ARTIFACT_UPLOADS_AT_ONCE, STORE_LOOKUPS_AT_ONCE
from tests.s3_support import BUCKET, BucketStore, S3Endpoint, new_root, running_s3_server

RESULTS = Path(__file__).with_name("results") / "s3.json"
RESULTS_NAMED_SERVER = RESULTS.with_name("s3-endpoint.json")  # a run against --endpoint
MEMORY = Path("/dev/shm")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def write_file(path: Path, size: int) -> None:
    block = hashlib.sha256(os.urandom(16)).digest() * 32768  # 1 MiB
    with open(path, "wb") as stream:
        remaining = size
        while remaining:
            part = block[: min(len(block), remaining)]
            stream.write(part)
            remaining -= len(part)


def new_bytes(path: Path) -> None:
    with open(path, "r+b") as stream:
        stream.write(os.urandom(16))


def use_server(url: str, scratch: Path) -> None:
    for key in [key for key in os.environ if key.startswith(("GEMINI_", "AWS_"))]:
        del os.environ[key]  # a training node: the server's address, nothing of the store
    os.environ["GEMINI_API_URL"] = url
    os.environ["GEMINI_SPOOL_PATH"] = str(scratch / "spool.sqlite")


def large_artifact(s3, scratch: Path, size: int, repeats: int) -> dict:  # noqa: ANN001
    from gemini.registry import registry

    source = scratch / "large.bin"
    write_file(source, size)
    client = s3.client()
    names = ("boto3_upload", "boto3_download", "boto3_put", "boto3_get", "gemini_upload", "gemini_download")
    times: dict[str, list[float]] = {name: [] for name in names}
    server_cpu: dict[str, list[float]] = {"upload": [], "download": []}
    environment = {**s3.environment, "GEMINI_ARTIFACT_ROOT": new_root()}
    bucket = BucketStore(s3, environment["GEMINI_ARTIFACT_ROOT"])
    with served(f"sqlite:///{scratch / 'large.db'}", scratch, environment) as server:
        use_server(server.url, scratch)
        run_id = registry().create_run(model_run_info={"benchmark": "s3 large"})[0].id
        target = scratch / "copy.bin"

        def timed(name: str, transfer):  # noqa: ANN001, ANN202
            started = time.perf_counter()
            result = transfer()
            times[name].append(time.perf_counter() - started)
            return result

        def put(key: str) -> None:
            with open(source, "rb") as stream:
                client.put_object(Bucket=BUCKET, Key=key, Body=stream)

        def get(key: str) -> None:
            with open(target, "wb") as stream:
                for chunk in client.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks(1 << 20):
                    stream.write(chunk)

        def through_server(direction: str, transfer):  # noqa: ANN001, ANN202
            """A gemini transfer, timed, with the server's CPU time during it."""
            cpu = cpu_seconds(server.pid)
            result = timed(f"gemini_{direction}", transfer)
            server_cpu[direction].append(cpu_seconds(server.pid) - cpu)
            return result

        logged = {}  # each round's gemini artifact, until its blob is removed

        def gemini_upload(repeat: int) -> None:
            name = f"weights/{repeat}.bin"
            logged[repeat] = through_server(
                "upload", lambda: registry().log_artifact_file(run_id=run_id, path=source, name=name)
            )

        def gemini_download(repeat: int) -> None:
            name = f"weights/{repeat}.bin"
            through_server("download", lambda: registry().download_artifact(run_id=run_id, name=name, dest=target))

        # Each way: its upload, its download, and the object it leaves.
        ways = [
            (
                lambda r: timed("boto3_upload", lambda: client.upload_file(str(source), BUCKET, f"baseline/{r}.bin")),
                lambda r: timed("boto3_download", lambda: client.download_file(BUCKET, f"baseline/{r}.bin", str(target))),
                lambda r: client.delete_object(Bucket=BUCKET, Key=f"baseline/{r}.bin"),
            ),
            (
                lambda r: timed("boto3_put", lambda: put(f"baseline/put-{r}.bin")),
                lambda r: timed("boto3_get", lambda: get(f"baseline/put-{r}.bin")),
                lambda r: client.delete_object(Bucket=BUCKET, Key=f"baseline/put-{r}.bin"),
            ),
            (
                gemini_upload,
                gemini_download,
                lambda r: bucket.remove(logged.pop(r).sha256),
            ),
        ]
        # moto holds every object in memory, and its completion of an upload in parts slowed with what it
        # held (7 to 15 s for the same request in one probe). So every round starts from an empty bucket,
        # and the ways take turns going first, for the uploads and then for the downloads.
        for repeat in range(repeats):
            new_bytes(source)  # else the store would hold them already and nothing would be sent
            in_turn = ways[repeat % len(ways) :] + ways[: repeat % len(ways)]
            for upload, _, _ in in_turn:
                upload(repeat)
            for _, download, _ in in_turn:
                download(repeat)
                target.unlink()
            for _, _, remove in in_turn:
                remove(repeat)
    best = {name: min(values) for name, values in times.items()}
    mib = size / 2**20
    return {
        "mib": mib,
        "seconds": times,
        "mib_per_s": {name: mib / seconds for name, seconds in best.items()},
        # Against the faster of boto3's two ways: its managed transfer (parts or ranges, 10 threads) and
        # one plain request.
        "upload_ratio": min(best["boto3_upload"], best["boto3_put"]) / best["gemini_upload"],
        "download_ratio": min(best["boto3_download"], best["boto3_get"]) / best["gemini_download"],
        # Like for like: gemini, too, sends a large file in parts side by side.
        "upload_ratio_to_managed": best["boto3_upload"] / best["gemini_upload"],
        "server_cpu_seconds": server_cpu,
        "server_cpu_share": {
            "upload": max(c / t for c, t in zip(server_cpu["upload"], times["gemini_upload"])),
            "download": max(c / t for c, t in zip(server_cpu["download"], times["gemini_download"])),
        },
    }


# An Ultralytics run's files: two checkpoints of yolo11n's size, sixteen plots and mosaics, results.csv and
# args.yaml; 20 files and 30 MB in all, the size the benchmark is set at.
YOLO_FILES = [("weights/best.pt", 5_400_000), ("weights/last.pt", 5_400_000)] + [
    (f"plots/{name}.png", 1_200_000) for name in range(16)
] + [("results.csv", 30_000), ("args.yaml", 2_000)]


def remove_under(client, prefix: str) -> None:  # noqa: ANN001
    """Every object under ``prefix``: the benchmark leaves nothing in a store it did not start."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        if keys := [{"Key": item["Key"]} for item in page.get("Contents", [])]:
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})


def put_all(client, files: list[Path], prefix: str) -> list[str]:  # noqa: ANN001
    """boto3 alone puts ``files`` under ``prefix``, as many at once as the client sends; their keys."""
    keys = [f"{prefix}{path.name}" for path in files]
    with ThreadPoolExecutor(ARTIFACT_UPLOADS_AT_ONCE) as uploads:
        list(uploads.map(lambda path, key: client.upload_file(str(path), BUCKET, key), files, keys))
    return keys


def yolo_run(s3, scratch: Path, repeats: int) -> dict:  # noqa: ANN001
    from gemini.registry import registry

    folder = scratch / "yolo"
    for name, size in YOLO_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        write_file(folder / name, size)
    stores = {
        "directory": {"GEMINI_ARTIFACT_ROOT": str(scratch / "yolo-store")},
        "bucket": {**s3.environment, "GEMINI_ARTIFACT_ROOT": new_root()},
    }
    times: dict[str, list[float]] = {name: [] for name in [*stores, "boto3_alone", "boto3_and_heads"]}
    client = s3.client()
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    for repeat in range(repeats):
        for path in files:
            new_bytes(path)
        started = time.perf_counter()
        put_all(client, files, f"yolo/{repeat}/")
        times["boto3_alone"].append(time.perf_counter() - started)
        # The same puts, then a HEAD of each object (as many at once as the server looks up before it
        # records): the S3 requests the bucket path cannot do without.
        started = time.perf_counter()
        keys = put_all(client, files, f"yolo/{repeat}/checked/")
        with ThreadPoolExecutor(STORE_LOOKUPS_AT_ONCE) as heads:
            list(heads.map(lambda key: client.head_object(Bucket=BUCKET, Key=key), keys))
        times["boto3_and_heads"].append(time.perf_counter() - started)
        # The two stores in turn first, so neither always runs on the heels of the other.
        for name, environment in list(stores.items())[:: 1 if repeat % 2 == 0 else -1]:
            with served(f"sqlite:///{scratch / f'yolo-{name}-{repeat}.db'}", scratch, environment) as server:
                use_server(server.url, scratch)
                run_id = registry().create_run(model_run_info={"benchmark": "yolo", "repeat": repeat})[0].id
                for path in folder.rglob("*"):  # new bytes each time: nothing is stored already
                    if path.is_file():
                        new_bytes(path)
                started = time.perf_counter()
                registry().log_artifact_directory(run_id=run_id, directory=folder)
                times[name].append(time.perf_counter() - started)
    remove_under(client, "yolo/")
    remove_under(client, BucketStore(s3, stores["bucket"]["GEMINI_ARTIFACT_ROOT"]).prefix)
    return {
        "files": len(YOLO_FILES),
        "mb": sum(size for _, size in YOLO_FILES) / 1e6,
        "seconds": times,
        "median_seconds": {name: statistics.median(values) for name, values in times.items()},
        "bucket_over_directory": statistics.median(times["bucket"]) / statistics.median(times["directory"]),
        "bucket_over_boto3_alone": statistics.median(times["bucket"]) / statistics.median(times["boto3_alone"]),
        "bucket_over_boto3_and_heads": statistics.median(times["bucket"]) / statistics.median(times["boto3_and_heads"]),
    }


def named_s3_server(endpoint: str) -> S3Endpoint:
    """The S3 server at ``endpoint``, reached with the keys and region of the standard AWS variables, with
    the benchmark's bucket made there when missing."""
    missing = [key for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not os.environ.get(key)]
    if missing:
        raise SystemExit(f"--endpoint needs the store's keys in {' and '.join(missing)}")
    s3 = S3Endpoint(
        endpoint,
        {
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        },
    )
    s3.make_bucket()
    return s3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024, help="size of the large artifact (default 1024)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--endpoint", help="an S3 server of your own in place of moto's, its keys in the AWS variables")
    args = parser.parse_args()
    memory = MEMORY if MEMORY.is_dir() else None
    with contextlib.ExitStack() as stack:
        in_memory = stack.enter_context(tempfile.TemporaryDirectory(prefix="gemini-s3-bench-", dir=memory))
        on_disk = stack.enter_context(tempfile.TemporaryDirectory(prefix="gemini-s3-bench-"))
        if args.endpoint:
            s3 = named_s3_server(args.endpoint)
        else:
            s3 = stack.enter_context(running_s3_server(Path(on_disk), objects_in=Path(in_memory)))
        results = {
            "s3_server": args.endpoint or "moto",
            "large": large_artifact(s3, Path(in_memory), args.mib * 2**20, args.repeats),
            "yolo_run": yolo_run(s3, Path(on_disk), max(3, args.repeats)),
        }
    written = RESULTS_NAMED_SERVER if args.endpoint else RESULTS
    written.parent.mkdir(exist_ok=True)
    written.write_text(json.dumps(results, indent=2) + "\n")
    large, yolo = results["large"], results["yolo_run"]
    print(f"large artifact, {large['mib']:.0f} MiB (MiB/s, best of {args.repeats}):")
    for name, rate in large["mib_per_s"].items():
        print(f"  {name:16} {rate:8.1f}")
    print(f"  upload {large['upload_ratio']:.0%} of boto3's best, download {large['download_ratio']:.0%} of boto3's best")
    print(f"  upload {large['upload_ratio_to_managed']:.0%} of boto3's upload_file (parts, as gemini sends them)")
    print(
        f"  server CPU / transfer time: upload {large['server_cpu_share']['upload']:.1%}, "
        f"download {large['server_cpu_share']['download']:.1%}"
    )
    print(f"YOLO-sized run ({yolo['files']} files, {yolo['mb']:.0f} MB), median seconds:")
    for name, seconds in yolo["median_seconds"].items():
        print(f"  {name:10} {seconds:6.2f}")
    print(
        f"  bucket / directory: {yolo['bucket_over_directory']:.2f}; "
        f"bucket / boto3 alone: {yolo['bucket_over_boto3_alone']:.2f}; "
        f"bucket / boto3 and HEADs: {yolo['bucket_over_boto3_and_heads']:.2f}"
    )
    print(f"written to {written}")


if __name__ == "__main__":
    main()
