"""The step a lesson will open on, known before the session exists (the TUI's first paint).

`LessonSession.open` decides for real, once it has the cluster: `--step`, else the first
step not done in this cluster's saved progress (or an earlier one that no longer holds:
drift). Before the cluster is reached, its name follows from the learner's choices in
the common cases: a minikube lesson watches its profile's context, and `--context`
names one; a run that saves no progress (the sandbox) starts from the top. Otherwise
(the kubeconfig's current context, which only the cluster layer reads) the guess is
the first step, and the session moves to the right one when it opens.
"""

from __future__ import annotations

from tutor.lesson.model import Lesson
from tutor.progress import ProgressStore
from tutor.session.setup import Setup, target_context


def expected_step(lesson: Lesson, setup: Setup, step_id: str | None = None) -> str:
    if step_id is not None:
        return step_id
    first = lesson.steps[0].id
    if not setup.save_progress:
        return first
    context = target_context(lesson, setup.context, setup.variables(lesson)["profile"])
    progress = ProgressStore().peek(lesson.id, context) if context is not None else None
    if progress is None:
        return first
    frontier = next((step.id for step in lesson.steps if not progress.is_done(step.id)), None)
    return frontier or lesson.steps[-1].id
