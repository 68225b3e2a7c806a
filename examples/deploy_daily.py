"""A bedtime film every evening, scheduled by Prefect.

Each evening at 18:00 a Prefect deployment makes one film from the next prompt of a list
(`examples/bedtime.txt`), into `runs/`. The film, its story and its asset table show in the Prefect UI.

Run it from the repository:

    prefect server start                                  # in another terminal (schedules need a server)
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python examples/deploy_daily.py                       # serve: runs happen in this process; Ctrl-C stops
    python examples/deploy_daily.py --pool storyreel      # or deploy for a work pool's workers, then:
    prefect worker start --pool storyreel

    prefect deployment run film-from-list/film-from-list  # a film now, without waiting for 18:00

The command line does the same: `storyreel deploy --cron "0 18 * * *" --prompts examples/bedtime.txt`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from storyreel.errors import StoryreelError
from storyreel.flows import deployments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", help="deploy to this work pool instead of serving from this process")
    parser.add_argument("--profile", default="preview", help="preview (CPU, offline), gpu, auto")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent

    # 1. The schedule: a cron string, in the family's time zone. `interval=` (seconds) and `rrule=` work
    #    too ("FREQ=WEEKLY;BYDAY=SA;BYHOUR=9" for Saturday mornings).
    evening = deployments.schedule_from(cron="0 18 * * *", timezone="Europe/Paris")

    # 2. The film-from-list deployment (named after its flow) re-reads the list at every run (edit it any
    #    time), takes the next prompt (rotation "next": a counter in the output folder, safe when runs
    #    overlap or a day is missed) and makes the film. Settings go in as for `storyreel make --set`; here
    #    four pages. With several GPUs, `run.task_runner=dask` renders the pages of a film in parallel.
    film = deployments.film_deployment(
        here / "bedtime.txt",
        schedule=evening,
        rotation="next",
        profile=args.profile,
        pages=4,
        settings=["video.transition=1.0"],
        out=here.parent / "runs",
    )

    # 3. Revisions on demand, next to it (None until the revise flow is installed).
    revise = deployments.revise_deployment()
    found = [d for d in (film, revise) if d is not None]

    # 4. A schedule needs a real Prefect server: without PREFECT_API_URL, Prefect would start a temporary
    #    one with no scheduler. Say so in one line rather than wait for an evening that never comes.
    try:
        url = deployments.check_server()
    except StoryreelError as exc:
        raise SystemExit(f"error: {exc}") from None

    # 5. Deploy for the workers of a pool (made if missing; workers may run on other machines), or serve
    #    from this process. Either way Prefect starts the runs; storyreel only makes the films.
    if args.pool:
        deployments.deploy(found, pool=args.pool)
        print(f"deployed {', '.join(d.full_name for d in found)} to {url}, pool {args.pool!r}")
        print(f"start a worker: prefect worker start --pool {args.pool}")
    else:
        print(f"serving {', '.join(d.full_name for d in found)} from {url}; Ctrl-C stops")
        deployments.serve(found)


if __name__ == "__main__":  # the guard Dask's worker processes need
    main()
