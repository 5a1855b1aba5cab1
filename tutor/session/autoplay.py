"""The part of `LessonSession` that plays steps by itself: autoplay, and the fast-forward of
earlier steps on replay.

Each step is shown, its commands run and its checks waited for, in order; a step already
done (an earlier step did its work) runs its commands once to show what they show. A
failed command is run again a few times while the checks do not pass, as a learner
would; a step whose checks do not pass within its timeout stops the play and says why.
A presenter may hold each step before its commands (`before_commands`).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Sequence

from tutor.lesson.model import Step
from tutor.session.answering import SessionQuestions
from tutor.session.events import AutoplayStopped, Notice, StepCheck

RETRIES = 3
"""Times autoplay runs a failed command again while its step's checks do not pass."""
RETRY_PAUSE = 3.0
"""Seconds autoplay waits after a failed command before it runs it again (grows per try)."""


class SessionAutoplay(SessionQuestions):
    _forced: str | None

    @property
    @abstractmethod
    def frontier(self) -> Step | None: ...

    @abstractmethod
    def is_unlocked(self, step_id: str) -> bool: ...

    @abstractmethod
    def show(self, step_id: str) -> Step: ...

    @abstractmethod
    def results(self, step_id: str) -> tuple[StepCheck, ...]: ...

    @abstractmethod
    def wait_done(self, step_id: str, timeout: float) -> bool: ...

    def play(
        self,
        steps: Sequence[str],
        *,
        on_step: Callable[[Step], None] | None = None,
        before_commands: Callable[[Step], bool] | None = None,
    ) -> bool:
        """Run each step's commands and wait for its checks, in order; False when one times out.

        `before_commands(step)` is asked, once the step is shown and before its commands run
        (not for a step already done): the presenter's pause. It may block (autoplay runs on a
        worker); False stops the play there."""
        for step_id in steps:
            step = self.lesson.step(step_id)
            if self._closed:
                return False
            self._forced = step.id if not self.is_unlocked(step.id) else self._forced
            self.show(step.id)
            if on_step:
                on_step(step)
            if self.progress.is_done(step.id):
                self._show_done_step(step)
                continue
            if self.untrusted:
                self._emit(AutoplayStopped(step.id, self.results(step.id), self.untrusted))
                return False
            if before_commands is not None and not before_commands(step):
                return False
            with self._running_step(step):
                played = self._play_step(step)
            if not played:
                reason = f"the checks did not pass within {step.timeout:.0f} s"
                self._emit(AutoplayStopped(step.id, self.results(step.id), reason))
                return False
        return True

    def _show_done_step(self, step: Step) -> None:
        """A step already done when autoplay reaches it (an earlier step did its work, as day55's
        manifest makes its volume): its commands run once, to show what they show, and its
        questions are answered; a command that fails does not stop autoplay."""
        if self.untrusted or not step.runnable:
            self._answer_for_autoplay(step)
            return
        with self._running_step(step):
            for command in step.runnable:
                if self._closed:
                    return
                self._run(step, command)
            self._answer_for_autoplay(step)

    def _play_step(self, step: Step) -> bool:
        """Run the step's commands until its checks pass, within its timeout.

        A command that failed (the API answered 500, a tool crashed) is run again after
        a pause, as a learner would: at most RETRIES times, and only while the checks
        still do not pass. Commands that succeeded are not repeated.
        """
        deadline = time.monotonic() + step.timeout
        pending = list(step.runnable)
        for attempt in range(RETRIES + 1):
            failed = [command for command in pending if not self._run(step, command).ok and not self._closed]
            if attempt == 0:
                self._answer_for_autoplay(step)
            remaining = deadline - time.monotonic()
            if not failed:
                return self.wait_done(step.id, max(remaining, 0.0))
            if self.wait_done(step.id, min(RETRY_PAUSE * (attempt + 1), max(remaining, 0.0))):
                return True
            if time.monotonic() >= deadline or self._closed:
                return False
            texts = ", ".join(f"`{command.display(self.variables)}`" for command in failed)
            self._emit(Notice(f"Running {texts} again: the step's checks do not pass yet.", "warning"))
            pending = failed
        return self.wait_done(step.id, max(deadline - time.monotonic(), 0.0))

    def autoplay(
        self,
        on_step: Callable[[Step], None] | None = None,
        *,
        before_commands: Callable[[Step], bool] | None = None,
    ) -> bool:
        """Play from the frontier to the end of the lesson (`before_commands`: see `play`)."""
        frontier = self.frontier
        if frontier is None:
            return True
        remaining = [step.id for step in self.lesson.steps[self.lesson.index(frontier.id) :]]
        return self.play(remaining, on_step=on_step, before_commands=before_commands)
