"""The learner's progress on one cluster, as the session keeps it and saves it.

- Opening a lesson never erases saved progress. A drifted step is not done for the
  session (it is the step to work on), but the record on disk keeps it: only the
  learner's actions change the record (a step done, `reset`).
- Progress belongs to one cluster identity (`ContextInfo.identity`). Until the cluster is
  known the record is provisional: nothing is saved under a name that is only expected.
  Once known, it takes that cluster's record (`identify`, `adopt`), never another
  cluster's.
- A state folder that cannot be written (read-only, full, foreign) does not stop the
  lesson: progress lives in memory, and the learner is told once.
"""

from __future__ import annotations

import dataclasses

from tutor.progress import Answer, Progress, ProgressStore


class Record:
    def __init__(self, lesson_id: str, store: ProgressStore | None, cluster: str, *, expected: bool) -> None:
        """`expected`: `cluster` is the one the learner most likely comes back to (its saved
        progress is shown until the real one is known); otherwise a name only."""
        self.lesson_id = lesson_id
        self.store = store
        known = store.peek(lesson_id, cluster) if store is not None and expected else None
        self.progress = known or Progress(lesson_id, cluster)
        self.provisional = True
        """The cluster is not known yet: nothing is saved."""
        self._saved: list[str] = list(self.progress.completed)
        """The steps the saved record says are done: what is saved, drift or not."""
        self._remembered: set[str] = set()
        self._answered: set[str] = set()
        """Questions answered in this session: they go with its steps when the record moves."""
        self.unsaved = False
        """Saving failed once (and the learner was told): progress lives in memory."""

    @property
    def cluster(self) -> str:
        return self.progress.cluster

    def identify(self, cluster: str | None) -> None:
        """The cluster is reached: `cluster` is its identity, or None while it does not exist yet
        (then nothing of any record is shown, and nothing is saved until `adopt`)."""
        if cluster is None:
            self.progress = Progress(self.lesson_id, self.progress.cluster)
        else:
            self.progress = (
                self.store.load(self.lesson_id, cluster) if self.store else Progress(self.lesson_id, cluster)
            )
            self.provisional = False
        self._saved = list(self.progress.completed)

    def adopt(self, cluster: str) -> bool:
        """The cluster is known now (created by the lesson): keep progress under its identity.

        Steps done in this session are added to that cluster's record; nothing of the record
        the session opened with moves over, unless it is the same. True when it moved.
        """
        if cluster == self.cluster and not self.provisional:
            return False
        moved = cluster != self.cluster
        self.provisional = False
        if moved:
            stored = self.store.load(self.lesson_id, cluster) if self.store else Progress(self.lesson_id, cluster)
            done_here = [step for step in self.progress.completed if step not in self._saved]
            memory = {key: self.progress.memory[key] for key in self._remembered if key in self.progress.memory}
            answers = {key: self.progress.answers[key] for key in self._answered if key in self.progress.answers}
            self._saved = [*stored.completed, *(s for s in done_here if s not in stored.completed)]
            self.progress = dataclasses.replace(
                self.progress,
                cluster=cluster,
                completed=[*self.progress.completed],
                memory={**stored.memory, **memory},
                answers={**stored.answers, **answers},
                notice=None,
            )
        return moved

    def remember(self, key: str, value: object) -> None:
        self.progress.memory[key] = value
        self._remembered.add(key)

    def answer(self, question: str, step: str) -> Answer:
        """The record of `question` (of `step`), to update: kept with the progress."""
        self._answered.add(question)
        return self.progress.answers.setdefault(question, Answer(step))

    def save(self) -> str | None:
        """Save the record: the steps it had (drifted or not) and those done since. Returns what
        to tell the learner the first time it cannot be saved, else None."""
        if self.store is None or self.provisional:
            return None
        self._saved += [step for step in self.progress.completed if step not in self._saved]
        saved = dataclasses.replace(self.progress, completed=list(self._saved))
        try:
            self.store.save(saved)
        except OSError as err:
            if self.unsaved:
                return None
            self.unsaved = True
            reason = err.strerror if isinstance(err.strerror, str) else str(err)
            return f"Your progress cannot be saved ({reason}); it is kept for this run only."
        self.progress.updated = saved.updated
        return None
