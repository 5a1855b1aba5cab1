"""How long the simulated cluster takes for each thing it does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delays:
    """Seconds. ``instant()`` for tests, ``realistic()`` so a UI shows progress.

    These are how long the simulated machinery takes. What a real cluster times by its
    own rules (back-offs, probe periods, grace periods, Jobs' deadlines, CronJob
    schedules) runs on the cluster's clock as it does there, whatever the delays.
    """

    #: A new pod until the scheduler binds it to the node.
    schedule: float = 0.0
    #: ContainerCreating: sandbox and volumes, before the first image pull.
    container_create: float = 0.0
    #: Pulling one image.
    image_pull: float = 0.0
    #: Running time of each init container.
    init_container: float = 0.0
    #: A started container with a readinessProbe until it reports Ready.
    readiness: float = 0.0
    #: A gracefully deleted pod stays Terminating this long (at most its grace period).
    pod_termination: float = 0.0
    #: A claim until its volume is provisioned.
    provision: float = 0.0
    #: A deleted namespace stays Terminating this long before its contents go.
    #: Not zero even in ``instant()``: ``kubectl delete -f`` deletes the namespace first
    #: and then the objects in it, which must still be there (as on a real cluster).
    namespace_termination: float = 0.5
    #: Running time of a Job's pod.
    job_run: float = 0.0
    #: An Ingress until its controller publishes the address.
    ingress_address: float = 0.0
    #: The kubelet's first CrashLoopBackOff/ImagePullBackOff back-off (10 s on a real node);
    #: it doubles up to 30 times this (5 min), and starts over after 60 times this without
    #: a failure. The same in ``instant()``: it is what a learner sees (``back-off 10s``);
    #: tests move a ManualClock rather than wait.
    backoff: float = 10.0

    @classmethod
    def instant(cls) -> Delays:
        return cls()

    @classmethod
    def realistic(cls) -> Delays:
        return cls(
            schedule=0.2,
            container_create=0.8,
            image_pull=1.5,
            init_container=1.0,
            readiness=2.0,
            pod_termination=1.5,
            provision=0.6,
            namespace_termination=2.5,
            job_run=1.5,
            ingress_address=2.0,
        )
