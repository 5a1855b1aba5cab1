"""Rules about reaching workloads: Ingresses and their controller, LoadBalancer Services."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.cluster import objects
from tutor.cluster.diagnosis.case import Case
from tutor.cluster.objects import DEFAULT_INGRESS_CLASS_ANNOTATION, Obj
from tutor.cluster.results import Finding
from tutor.cluster.view import WatchKey, find

NGINX_CONTROLLER = "k8s.io/ingress-nginx"
NGINX_NAMESPACE = "ingress-nginx"
NGINX_DEPLOYMENT = "ingress-nginx-controller"


def _class_of(ingress: Obj) -> str | None:
    named = objects.spec(ingress).get("ingressClassName") or objects.annotations_of(ingress).get(
        "kubernetes.io/ingress.class"
    )
    return str(named) if named else None


def ingress_controller(case: Case) -> Iterator[Finding]:
    classes = {objects.name(item): item for item in case.view.objects(WatchKey.of("ingressclass"))}
    for subject, ingress in case.subject_objects("ingress"):
        if objects.load_balancer_addresses(ingress):
            continue
        wanted = _class_of(ingress)
        if wanted is None:
            defaults = [
                name
                for name, item in classes.items()
                if objects.annotations_of(item).get(DEFAULT_INGRESS_CLASS_ANNOTATION) == "true"
            ]
            if not defaults:
                yield Finding(
                    "ingress_no_class",
                    f"ingress {subject.name} names no IngressClass and none is the default: "
                    "no controller will take it on (is an ingress controller installed?)",
                    tuple(sorted(classes)),
                    "kubectl get ingressclass",
                )
                continue
            wanted = defaults[0]
        ingress_class = classes.get(wanted)
        if ingress_class is None:
            yield Finding(
                "ingress_no_controller",
                f"ingress {subject.name} asks for IngressClass {wanted}, which does not exist: "
                "no ingress controller is installed (on minikube: the ingress addon)",
                tuple(sorted(classes)) or ("no IngressClass at all",),
                "kubectl get ingressclass",
            )
            continue
        if objects.spec(ingress_class).get("controller") != NGINX_CONTROLLER:
            continue
        deployment = find(case.view, "deployment", NGINX_NAMESPACE, NGINX_DEPLOYMENT)
        available = objects.as_int(objects.status(deployment).get("availableReplicas")) if deployment else 0
        if available < 1:
            state = "does not exist" if deployment is None else "has no available replica"
            yield Finding(
                "ingress_controller_down",
                f"the ingress controller is not running: deployment {NGINX_DEPLOYMENT} in {NGINX_NAMESPACE} {state}",
                (),
                f"kubectl get pods -n {NGINX_NAMESPACE}",
            )


def ingress_no_address(case: Case) -> Iterator[Finding]:
    for subject, ingress in case.subject_objects("ingress"):
        if objects.load_balancer_addresses(ingress):
            continue
        yield Finding(
            "ingress_no_address",
            f"ingress {subject.name} has no address yet: its controller sets one once it has taken the Ingress on",
            (f"{subject.name}  class {_class_of(ingress) or '<default>'}  ADDRESS <none>",),
            f"kubectl describe ingress {subject.name} -n {subject.namespace}",
        )


def loadbalancer_pending(case: Case) -> Iterator[Finding]:
    for subject, service in case.subject_objects("service"):
        if objects.spec(service).get("type") != "LoadBalancer" or objects.load_balancer_addresses(service):
            continue
        yield Finding(
            "loadbalancer_pending",
            f"service {subject.name} is a LoadBalancer whose EXTERNAL-IP is <pending>: on minikube only "
            f"`{case.minikube('tunnel')}` gives it one; a port-forward works meanwhile",
            (f"{subject.name}  LoadBalancer  EXTERNAL-IP <pending>",),
            f"kubectl get service {subject.name} -n {subject.namespace}",
        )


def rollout_stuck(case: Case) -> Iterator[Finding]:
    for subject, deployment in case.subject_objects("deployment"):
        for kind in ("Progressing", "ReplicaFailure"):
            condition = objects.condition(deployment, kind)
            if condition is None:
                continue
            stuck = (kind == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded") or (
                kind == "ReplicaFailure" and condition.get("status") == "True"
            )
            if stuck:
                yield Finding(
                    "rollout_stuck",
                    f"deployment {subject.name} is stuck: {condition.get('reason')}",
                    (" ".join(str(condition.get("message", "")).split()),),
                    f"kubectl describe deployment {subject.name} -n {subject.namespace}",
                )
