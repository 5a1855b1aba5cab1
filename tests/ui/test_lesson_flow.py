"""The lesson screen against the real sandbox and the real session, driven by the Pilot."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Markdown, Static

from tests.ui.conftest import SIZE, opened, process_running, wait_for, wait_for_question
from tutor.cluster.guard import GuardDecision
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.session.session import LessonSession
from tutor.ui.app import TutorApp
from tutor.ui.screens.complete import LessonCompleteScreen
from tutor.ui.widgets.checks_panel import ChecksPanel
from tutor.ui.widgets.done_bar import StepDoneBar
from tutor.ui.widgets.hints_panel import HintsPanel
from tutor.ui.widgets.step_list import StepList


def checks_text(app: TutorApp) -> str:
    panel = app.lesson_screen.query_one(ChecksPanel)
    return str(panel.render())


def gated(release: threading.Event) -> Callable[[LessonSession, Setup], None]:
    """Attaches the cluster once `release` is set: the screen as it is before the cluster is reached."""
    from tutor.session import factory

    def attach(session: LessonSession, setup: Setup) -> None:
        release.wait(20)
        factory.attach_cluster(session, setup)

    return attach


class TestOpening:
    async def test_the_first_paint_says_simulated_before_the_session_exists(
        self, day55: Lesson, day55_setup: Setup
    ) -> None:
        app = TutorApp(day55, day55_setup)
        async with app.run_test(size=SIZE) as pilot:
            badge = app.screen.query_one("#sandbox-badge")
            assert badge.display
            assert "SIMULATED" in str(badge.render())
            intro = app.screen.query_one(".intro")
            assert "State and Ingress in Kubernetes" in str(intro.query_one(".prose-h1", Static).content)
            assert not app.screen.query(Markdown)  # headings and paragraphs need no Markdown widget
            screen = await opened(pilot)
            assert screen.current == "start"
            assert "Step 1 of 11" in str(screen.query_one("#step-position").render())
            assert "no cluster yet" in str(screen.query_one("#connection").render())

    async def test_the_first_paint_is_the_step_itself_before_the_cluster_is_reached(
        self, day55: Lesson, day55_setup: Setup
    ) -> None:
        release = threading.Event()
        app = TutorApp(day55, day55_setup, attach=gated(release))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                screen = app.lesson_screen
                assert not screen.opened
                assert screen.current == "start"
                assert "Step 1 of 11" in str(screen.query_one("#step-position").render())
                assert str(screen.query_one(StepList).get_option("start").prompt).startswith("▶")
                views = [screen.command_view("start", index) for index in range(2)]
                assert [view.text for view in views][1] == "kubectl get nodes"
                assert all(view.query_one(Button).region for view in views)
                assert "Connecting" in checks_text(app)
                assert screen.check_action("run_step", ()) is True
                assert screen.check_action("next_step", ()) is None
                release.set()
                await opened(pilot)
                assert screen.step_views["start"] is views[0].parent.parent  # drawn once, not again
        finally:
            release.set()

    async def test_a_run_asked_for_before_the_lesson_is_open_runs_once_it_is(
        self, mini: Lesson, mini_setup: Setup
    ) -> None:
        release = threading.Event()
        app = TutorApp(mini, mini_setup, attach=gated(release))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                screen = app.lesson_screen
                touch = screen.command_view("first", 0)
                await pilot.click(touch.query_one(Button))
                await wait_for(pilot, lambda: "waiting for the cluster" in touch.status, what="the run to wait")
                assert screen.running
                assert screen.check_action("run_step", ()) is None  # one run at a time
                release.set()
                await opened(pilot)
                await wait_for(pilot, lambda: touch.status.startswith("✓"), what="the waiting run to finish")
                assert screen.command_view("first", 1).status == ""  # only the pressed one ran
                await wait_for(pilot, lambda: not screen.running)
        finally:
            release.set()

    async def test_a_run_waiting_for_a_replay_question_runs_if_the_learner_continues(
        self, mini: Lesson, mini_setup: Setup
    ) -> None:
        release = threading.Event()
        app = TutorApp(mini, mini_setup, step_id="broken", attach=gated(release))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                screen = app.lesson_screen
                assert screen.current == "broken"
                await pilot.press("r")
                view = screen.command_view("broken", 0)
                await wait_for(pilot, lambda: "waiting for the cluster" in view.status, what="the run to wait")
                release.set()
                await wait_for_question(pilot, what="the replay question")
                assert view.last_started < 0  # not before the learner answers
                await pilot.press("n")
                await wait_for(pilot, lambda: view.status.startswith("✓"), what="the waiting run to finish")
        finally:
            release.set()

    async def test_hints_before_the_cluster_is_reached_are_counted_once_it_is(
        self, mini: Lesson, mini_setup: Setup
    ) -> None:
        release = threading.Event()
        app = TutorApp(mini, mini_setup, attach=gated(release))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                screen = app.lesson_screen
                await pilot.press("h")
                panel = screen.query_one(HintsPanel)
                await wait_for(pilot, lambda: len(panel.shown) == 1, what="the first hint")
                assert "touch" in panel.shown[0]
                release.set()
                await opened(pilot)
                await pilot.press("h")
                await wait_for(pilot, lambda: len(panel.shown) == 2, what="the second hint")
                assert "run the step" in panel.shown[1]
        finally:
            release.set()


class TestRunningAStep:
    async def test_step_one_runs_from_the_tui_passes_and_unlocks_step_two(
        self, day55: Lesson, day55_setup: Setup
    ) -> None:
        app = TutorApp(day55, day55_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            step_list = screen.query_one(StepList)
            assert step_list.get_option("default-storageclass").disabled
            assert screen.check_action("next_step", ()) is None

            await pilot.press("r")
            await wait_for(pilot, lambda: session.progress.is_done("start"), what="step 1 to be done")
            # The session is ahead of the screen (its events are drawn in batches): wait for the screen.
            await wait_for(pilot, lambda: [c.result.status for c in screen.checks()] == ["pass"] * 3, what="3 passes")
            minikube, nodes = screen.command_view("start", 0), screen.command_view("start", 1)
            await wait_for(pilot, lambda: nodes.status.startswith("✓"), what="both commands to finish")
            assert minikube.status.startswith("✓")
            assert any("Done!" in line for line in minikube.output)
            assert any("mc-demo" in line for line in nodes.output)
            # The header names where the commands go: the context and its server.
            await wait_for(
                pilot,
                lambda: "● mc-demo at 127.0.0.1" in str(screen.query_one("#connection").render()),
                what="the header to name the cluster",
            )

            await wait_for(pilot, lambda: not step_list.get_option("default-storageclass").disabled, what="step 2")
            assert step_list.get_option("deploy").disabled
            assert screen.query_one(StepDoneBar).display
            assert screen.check_action("next_step", ()) is True
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "default-storageclass", what="step 2")
            assert "Step 2 of 11" in str(screen.query_one("#step-position").render())
            assert not any(bar.display for bar in screen.query(StepDoneBar))

    async def test_one_command_runs_alone_and_its_output_is_batched(self, mini: Lesson, mini_setup: Setup) -> None:
        app = TutorApp(mini, mini_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            counting = screen.command_view("first", 1)
            await pilot.click(counting.query_one("Button"))
            await wait_for(pilot, lambda: counting.status.startswith("✓"), what="seq to finish")
            # 20,000 lines, capped at the log's last 1,000, the last one included.
            assert len(counting.output) == 1000
            assert counting.output[-1] == "20000"
            assert screen.command_view("first", 0).status == ""  # only the pressed one ran
            manual = screen.command_view("first", 2)
            assert manual.command.manual
            assert not manual.query("Button")
            assert "type this yourself" in str(manual.query_one(".manual-tag").render())

    async def test_the_same_command_twice_in_a_step_gets_its_own_output(
        self, day55: Lesson, day55_setup: Setup
    ) -> None:
        app = TutorApp(day55, day55_setup, autoplay=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            await pilot.press("r")
            await wait_for(pilot, lambda: session.progress.is_done("start") and not screen.running)
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "default-storageclass")
            await pilot.press("r")
            await wait_for(pilot, lambda: not screen.running and session.progress.is_done("default-storageclass"))
            before, after = (
                screen.command_view("default-storageclass", 0),
                screen.command_view("default-storageclass", 3),
            )
            await wait_for(pilot, lambda: after.status.startswith("✓"), what="the last command to be drawn")
            assert before.text == after.text == "kubectl get storageclass"
            assert any("standard (default)" in line for line in before.output)
            assert any("csi-hostpath-sc (default)" in line for line in after.output)

    async def test_keys_typed_before_the_terminal_was_lent_are_dropped_when_it_comes_back(
        self, mini: Lesson, mini_setup: Setup
    ) -> None:
        # An `r` read just before the app suspended for a password prompt is still queued
        # when the app resumes; handled then, it would run the step (and ask) again.
        from textual import events

        app = TutorApp(mini, mini_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            stale = events.Key("r", "r")  # stamped now, as the input thread does when it reads a key
            stale.set_sender(app)
            app.drop_input_before(time.monotonic())
            app.post_message(stale)
            mark = Path(mini.variables["mark"])  # the step's first command touches it
            await pilot.pause(0.5)
            assert not screen.running and not mark.exists()
            await pilot.press("r")  # read after the loan: a key like any other
            await wait_for(pilot, mark.exists, what="the step to run")


class TestNavigation:
    async def test_locked_steps_cannot_be_shown(self, day55: Lesson, day55_setup: Setup) -> None:
        app = TutorApp(day55, day55_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            step_list = screen.query_one(StepList)
            assert step_list.get_option("deploy").disabled
            step_list.post_message(StepList.StepChosen("deploy"))
            await pilot.press("n")
            await pilot.pause(0.2)
            assert screen.current == "start"
            assert "deploy" not in screen.step_views

    async def test_a_step_not_on_screen_stays_hidden_when_its_command_runs(
        self, mini: Lesson, mini_setup: Setup
    ) -> None:
        app = TutorApp(mini, mini_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            # As on resume, when the session restarts an earlier step's background command.
            last = mini.step("last")
            await asyncio.to_thread(session.run_command, last, last.commands[0])
            await wait_for(pilot, lambda: "last" in screen.step_views, what="the step's view")
            await wait_for(pilot, lambda: screen.command_view("last", 0).status.startswith("✓"))
            assert screen.current == "first"
            assert [step for step, view in screen.step_views.items() if view.display] == ["first"]

    async def test_previous_step_goes_back(self, mini: Lesson, mini_setup: Setup) -> None:
        app = TutorApp(mini, mini_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            assert screen.check_action("previous_step", ()) is None
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.check_action("next_step", ()) is True, what="step 2 to unlock")
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "slow")
            await pilot.press("p")
            await wait_for(pilot, lambda: screen.current == "first")


class TestChecksAndHints:
    async def test_a_failing_check_shows_its_reason(self, mini: Lesson, mini_setup: Setup) -> None:
        app = TutorApp(mini, mini_setup, step_id="broken")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot, what="the replay question")
            await pilot.press("n")  # continue anyway
            screen = await opened(pilot)
            await wait_for(
                pilot, lambda: any(c.result.status == "fail" for c in screen.checks()), what="the check to fail"
            )
            text = checks_text(app)
            assert "✗ the missing tool runs" in text
            assert "`k8s-tutor-test-no-such-tool` was not found: is it installed and on PATH?" in text
            assert screen.query_one(ChecksPanel).border_subtitle == "0/1 pass"

    async def test_explain_shows_the_clusters_evidence(self, day55: Lesson, day55_setup: Setup) -> None:
        app = TutorApp(day55, day55_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            await pilot.press("r")
            await wait_for(pilot, lambda: session.progress.is_done("start") and not screen.running)
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "default-storageclass" and screen.checks())
            await wait_for(pilot, lambda: screen.checks()[0].result.findings, what="findings")
            assert "what the cluster shows" not in checks_text(app)  # waiting: findings on request
            await pilot.press("e")
            await wait_for(pilot, lambda: "what the cluster shows" in checks_text(app))
            assert "standard (default)" in checks_text(app)
            assert "standard is the default, not csi-hostpath-sc" in checks_text(app)

    async def test_hints_come_one_per_press_in_order(self, day55: Lesson, day55_setup: Setup) -> None:
        app = TutorApp(day55, day55_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            hints = screen.query_one(HintsPanel)
            assert len(hints.shown) == 0
            await pilot.press("h")
            await wait_for(pilot, lambda: len(hints.shown) == 1)
            assert "K8S_OLD_UNSUPPORTED" in hints.shown[0]
            await pilot.click("#hint-button")
            await wait_for(pilot, lambda: len(hints.shown) == 2)
            # Variables are filled in: the learner reads their own profile.
            assert "minikube -p mc-demo addons enable volumesnapshots" in hints.shown[1]
            assert hints.query_one("#hint-button").disabled
            await pilot.press("h")
            await pilot.pause(0.1)
            assert len(hints.shown) == 2
            assert "2 of 2 shown" in str(hints.query_one("#hint-count").render())


class TestReplayAndResume:
    async def test_replay_offers_fast_forward_and_runs_the_missing_steps(
        self, day55: Lesson, day55_setup: Setup
    ) -> None:
        app = TutorApp(day55, day55_setup, step_id="volumes")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.lesson_screen
            await wait_for_question(pilot, what="the replay question")
            question = str(app.screen.query_one("#question-text").render())
            assert "Look at the volume and its claim" in question
            for title in ("Start minikube", "Make csi-hostpath-sc the default", "Deploy Pac-Man and MongoDB"):
                assert title in question
            await pilot.press("y")
            session = screen.session
            assert session is not None
            await wait_for(pilot, lambda: session.progress.is_done("deploy"), timeout=60, what="fast-forward")
            await wait_for(pilot, lambda: screen.current == "volumes", what="the replayed step")
            await wait_for(pilot, lambda: session.progress.is_done("volumes"), what="the volume's check")
            await wait_for(pilot, lambda: not screen.running)

    async def test_drift_is_shown_on_resume(self, mini: Lesson, mini_setup: Setup) -> None:
        setup = replace(mini_setup, save_progress=True)
        app = TutorApp(mini, setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            await pilot.press("r")
            await wait_for(pilot, lambda: session.progress.is_done("slow"), what="steps 1 and 2")
        # The mark is gone when the learner comes back: step 1 no longer holds.
        Path("first.mark").unlink()
        app = TutorApp(mini, replace(mini_setup, save_progress=True))
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            assert screen.current == "first"
            assert "Done before, but no longer holds" in checks_text(app)
            assert not screen.query_one(StepList).get_option("slow").disabled


class TestAutoplay:
    async def test_autoplay_runs_the_whole_lesson_and_stays_open(self, day55: Lesson, day55_setup: Setup) -> None:
        app = TutorApp(day55, day55_setup, autoplay=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            await wait_for(pilot, lambda: isinstance(app.screen, LessonCompleteScreen), timeout=90, what="the end")
            assert session.frontier is None
            assert screen.current == "tunnel"
            assert len(screen.step_views) == len(day55.steps)
            background = str(screen.query_one("#background-list").render())
            assert "pacman-forward: ready" in background
            assert "tunnel: ready" in background
            await pilot.press("escape")  # back to the lesson: the app stays open
            await wait_for(pilot, lambda: app.screen is screen)
            assert app.is_running


class TestQuitting:
    async def test_quit_while_a_command_runs_stops_it(self, mini: Lesson, mini_setup: Setup) -> None:
        nap = f"{900 + random.random() * 99:.4f}"
        setup = replace(mini_setup, overrides={"nap": nap})
        app = TutorApp(mini, setup, step_id="slow")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot)
            await pilot.press("n")
            screen = await opened(pilot)
            await wait_for(pilot, lambda: app.screen is screen)
            await pilot.press("r")
            await wait_for(pilot, lambda: process_running("sleep", nap), what="sleep to start")
            started = time.monotonic()
            await pilot.press("q")
        assert time.monotonic() - started < 3.0
        deadline = time.monotonic() + 3.0
        while process_running("sleep", nap) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_running("sleep", nap)

    @pytest.mark.parametrize("after_steps", [2, 5, 8])
    async def test_quit_during_autoplay_draws_nothing_on_the_way_out(
        self, day55: Lesson, day55_setup: Setup, caplog: pytest.LogCaptureFixture, after_steps: int
    ) -> None:
        # The session's events keep coming while the screen's widgets are taken down.
        app = TutorApp(day55, day55_setup, autoplay=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            session = screen.session
            assert session is not None
            done = lambda: sum(session.progress.is_done(step.id) for step in day55.steps)  # noqa: E731
            await wait_for(pilot, lambda: done() >= after_steps, timeout=60, what=f"{after_steps} steps")
            await pilot.press("q")
        failures = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert failures == []

    async def test_a_password_prompt_without_a_terminal_asks_the_learner(self, mini: Lesson, mini_setup: Setup) -> None:
        app = TutorApp(mini, mini_setup, step_id="password")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot)
            await pilot.press("n")
            screen = await opened(pilot)
            await pilot.press("r")
            view = screen.command_view("password", 0)
            await wait_for(pilot, lambda: "needs your terminal" in view.status, what="the prompt to be seen")
            assert "run it in your own terminal" in view.status

    async def test_a_refused_cluster_ends_with_the_reason(self, mini: Lesson, mini_setup: Setup) -> None:
        from tutor.session.factory import SessionRefused

        def refuse(session: LessonSession, setup: Setup) -> None:
            raise SessionRefused("context prod-eu is not a local cluster: pass --context prod-eu to use it")

        app = TutorApp(mini, mini_setup, attach=refuse)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.return_code == 2, what="the app to end")
        assert app.return_code == 2


class TestClusterQuestions:
    async def test_a_non_local_cluster_is_used_once_the_learner_agrees(self, mini: Lesson, mini_setup: Setup) -> None:
        from tutor.session import factory

        asked: list[str] = []

        def guarded(session: LessonSession, setup: Setup) -> None:
            # What attach_cluster does when the guard refuses a context the learner named.
            assert setup.confirm is not None
            asked.append("context prod-eu is not a local cluster")
            if not setup.confirm(GuardDecision(False, True, asked[-1], "prod-eu")):
                raise factory.SessionRefused("not using context prod-eu")
            factory.attach_cluster(session, setup)

        app = TutorApp(mini, mini_setup, attach=guarded)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot, what="the question")
            assert "prod-eu is not a local cluster" in str(app.screen.query_one("#question-text").render())
            await pilot.press("y")
            screen = await opened(pilot)
            assert screen.current == "first"

        app = TutorApp(mini, mini_setup, attach=guarded)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot, what="the question")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.return_code == 2, what="the app to end")

        # Enter takes the safe answer: the focused button is "Quit".
        app = TutorApp(mini, mini_setup, attach=guarded)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_question(pilot, what="the question")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.return_code == 2, what="the app to end")

    async def test_reconnecting_says_since_when(self, mini: Lesson, mini_setup: Setup) -> None:
        from tutor.cluster.status import ConnectionStatus
        from tutor.ui.widgets.lesson_header import LessonHeader

        app = TutorApp(mini, mini_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            header = screen.query_one(LessonHeader)
            lost = time.mktime((2026, 3, 1, 10, 15, 0, 0, 0, -1))
            header.show_connection(ConnectionStatus("reconnecting", lost, last_error="connection refused"))
            await pilot.pause()
            connection = screen.query_one("#connection")
            assert "reconnecting since 10:15:00" in str(connection.render())  # when it was lost, not now
            assert str(connection.tooltip) == "connection refused"
            header.show_connection(ConnectionStatus("connected", time.time(), context="mc-demo", server="https://h:1"))
            await pilot.pause()
            assert "● mc-demo at h" in str(connection.render())
