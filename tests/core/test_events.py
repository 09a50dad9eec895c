from dothi.core.events import EventBus, EventType

NUMBERS: EventType[int] = EventType("numbers")
WORDS: EventType[str] = EventType("words")


def test_subscribers_get_the_payloads_of_their_event_only() -> None:
    bus = EventBus()
    numbers: list[int] = []
    words: list[str] = []
    bus.subscribe(NUMBERS, numbers.append)
    bus.subscribe(WORDS, words.append)
    bus.publish(NUMBERS, 7)
    bus.publish(WORDS, "mưa")
    assert numbers == [7] and words == ["mưa"]


def test_a_failing_subscriber_does_not_stop_the_others_and_unsubscribe_works() -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("boom")

    bus.subscribe(NUMBERS, broken)
    stop = bus.subscribe(NUMBERS, seen.append)
    bus.publish(NUMBERS, 1)
    stop()
    bus.publish(NUMBERS, 2)
    assert seen == [1]
