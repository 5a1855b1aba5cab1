"""The pieces of the TUI with no Textual in them: the event bridge and the prose clean-up."""

from __future__ import annotations

import threading

from tutor.lesson.prose import display_markdown as for_textual
from tutor.session.events import OutputLine, StepShown
from tutor.ui.bridge import EventBridge


class TestEventBridge:
    def test_a_burst_costs_one_wake_up_and_keeps_its_order(self) -> None:
        wakes: list[int] = []
        bridge = EventBridge(lambda: wakes.append(1))
        for number in range(1000):
            bridge(OutputLine("r1", str(number)))
        assert len(wakes) == 1
        taken = bridge.take()
        assert [event.text for event in taken if isinstance(event, OutputLine)] == [str(n) for n in range(1000)]
        bridge(StepShown("a", 0, False))
        assert len(wakes) == 2  # taken: the next event wakes again

    def test_events_from_many_threads_all_arrive(self) -> None:
        wakes = threading.Semaphore(0)
        bridge = EventBridge(wakes.release)

        def emit(run: str) -> None:
            for number in range(2000):
                bridge(OutputLine(run, str(number)))

        threads = [threading.Thread(target=emit, args=(f"r{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        seen: dict[str, list[str]] = {}
        while any(thread.is_alive() for thread in threads) or sum(map(len, seen.values())) < 8000:
            wakes.acquire(timeout=1)
            for event in bridge.take():
                assert isinstance(event, OutputLine)
                seen.setdefault(event.run, []).append(event.text)
        for thread in threads:
            thread.join()
        # Each thread's own order survives the interleaving.
        assert all(lines == [str(n) for n in range(2000)] for lines in seen.values())

    def test_a_closed_bridge_drops_events_and_a_closed_loop_is_not_an_error(self) -> None:
        def closed_loop() -> None:
            raise RuntimeError("Event loop is closed")

        bridge = EventBridge(closed_loop)
        bridge(StepShown("a", 0, False))  # no exception
        bridge.close()
        bridge(StepShown("b", 1, False))
        assert bridge.take() == []


class TestProse:
    def test_alert_markers_become_a_bold_label(self) -> None:
        assert for_textual("> [!NOTE]\n> Read this.") == "> **Note**\n> Read this."
        assert for_textual("  > [!warning]") == "  > **Warning**"

    def test_fence_attributes_are_dropped_for_the_lexer(self) -> None:
        assert for_textual("```sh {background id=x}\nkubectl\n```") == "```sh\nkubectl\n```"
        assert for_textual("~~~yaml {checks}") == "~~~yaml"

    def test_everything_else_is_left_alone(self) -> None:
        text = '## Title\n\nA `{json}` value: {"a": 1}\n\n> a quote'
        assert for_textual(text) == text
