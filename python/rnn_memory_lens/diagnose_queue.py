"""The Monitor's diagnoses: `rnn-memory diagnose --run DIR --step N` for a snapshot, written to
diagnoses/step-N.json (its output and errors to step-N.log).

While the script trains, the Monitor starts one at a time in the background. Diagnoses still queued when
the script ends are handed to this file run as a detached process (its own session, so it outlives the
script and a Ctrl-C to it): it waits for the one still running, then runs the rest in order.

    python diagnose_queue.py '{"cli": [...], "run_dir": ..., "python": ..., "steps": [...], "wait_pid": N}'

Standard library only: it runs as a plain file, without the package on sys.path.
"""
import json
import os
import subprocess
import sys
import time

DIAGNOSIS_DIR = "diagnoses"


def report_path(run_dir, step):
    return os.path.join(run_dir, DIAGNOSIS_DIR, "step-%08d.json" % step)


def start_diagnosis(cli, run_dir, step, python):
    """Starts the CLI on the snapshot of `step` in the background; returns its Popen."""
    out_dir = os.path.join(run_dir, DIAGNOSIS_DIR)
    os.makedirs(out_dir, exist_ok=True)
    log = open(os.path.join(out_dir, "step-%08d.log" % step), "wb")
    try:
        return subprocess.Popen(
            list(cli) + ["diagnose", "--run", run_dir, "--step", str(step), "--python", python,
                         "--out", report_path(run_dir, step), "--quiet"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    finally:
        log.close()


def hand_over(cli, run_dir, python, steps, wait_pid=None):
    """Runs `steps`' diagnoses after the script has gone, in a detached process; returns its Popen."""
    job = json.dumps({"cli": list(cli), "run_dir": run_dir, "python": python, "steps": list(steps), "wait_pid": wait_pid})
    kwargs = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    return subprocess.Popen([python, os.path.abspath(__file__), job], close_fds=True, **kwargs)


def _alive(pid):
    if os.name == "nt":
        return False  # no portable check without handles: the next diagnosis simply starts
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child of the (gone) script is a zombie until reaped by init: treat it as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def main(argv):
    job = json.loads(argv[1])
    wait_pid = job.get("wait_pid")
    while wait_pid and _alive(wait_pid):
        time.sleep(0.5)
    for step in job["steps"]:
        start_diagnosis(job["cli"], job["run_dir"], step, job["python"]).wait()


if __name__ == "__main__":
    main(sys.argv)
