"""CPU priority of an engine's threads.

On a small CPU the stages of a voice turn take turns on the same cores, and some of them are on
the critical path every time they run: the event loop (every session's reading, writing and
turn decisions), the recogniser and the synthesis of a reply's first clause. The LLM is not,
most of the time: once its first words are out, it decodes the rest of a reply ahead of speech,
and it reads a prompt on every core. When both want a core, the one a user is waiting on
should get it at once; when nobody else wants it, the LLM should have the whole machine.

A lower CPU priority for the LLM's threads says exactly that, and costs it nothing on an idle
CPU: Linux shares a contended core by weight (nice 5 weighs about a third of nice 0, nice 10
about a tenth), and a woken thread of higher weight preempts a running one of lower weight
sooner.

Rules:

* Linux keeps a nice value per thread, and a thread starts with its creator's. Lowering it on
  the thread that builds a runtime lowers every thread that runtime starts (llama.cpp's server
  loop, its OpenMP workers, its HTTP threads).
* Raising a nice value again takes privileges, so a thread, once lowered, stays lowered: only
  threads that belong to the engine (its own executor's) are ever touched.
* Elsewhere (macOS, Windows), or where the call is refused, nothing changes: priority is a
  latency aid, never a condition to run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

MAX_NICE = 19  # Linux's lowest priority


def lower_this_thread(by: int) -> None:
    """Run the calling thread (and every thread it starts from now on) ``by`` nice levels
    lower. 0 or less leaves it as it is."""
    if by <= 0 or sys.platform != "linux":
        return
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(MAX_NICE, current + by))
    except OSError as error:  # a sandbox may refuse it; the engine runs the same, only sooner
        log.debug("could not lower the priority of thread %d: %s", thread_id, error)
