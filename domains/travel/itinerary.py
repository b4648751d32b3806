"""The travel synthesizer: the itinerary as the booking ledger has it, in each place's local time.

Every fact about a booked item (flight number, route, local times, hotel name, dates, nights,
rooms, car class, quantity, price) comes from the booking record itself, which the inventory
wrote when it took the item. The planner's choices appear only as what they are: items planned
but not booked. The status and its reason are the verifier's verdict (`SynthesisView.verdict`),
whose facts carry the run's bookings, so the ledger is read once per synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domains.travel.policy import departure, utc
from domains.travel.verifier import label, money
from orchestrator.planning import SynthesisView
from state import Answer, Usage


def _flight(b: Mapping[str, Any]) -> dict[str, Any]:
    d = b["details"]
    return {
        "flight_no": d["flight_no"],
        "origin": d["origin"],
        "destination": d["destination"],
        "depart_local": d["depart_local"],
        "arrive_local": d["arrive_local"],
        "red_eye": d["red_eye"],
        "cabin": d["cabin"],
        "travelers": b["quantity"],
        "cost": b["total_price"],
        "booking": b["ref"],
        "booking_status": b["status"],
    }


def _hotel(b: Mapping[str, Any], extra_nights: set[tuple[str, str]]) -> dict[str, Any]:
    d = b["details"]
    return {
        "name": d["name"],
        "city": d["city"],
        "tier": d["tier"],
        "check_in": d["check_in"],
        "check_out": d["check_out"],
        "nights": d["nights"],
        "rooms": d["rooms"],
        "extra_night": (d["city"], d["check_in"]) in extra_nights,
        "cost": b["total_price"],
        "booking": b["ref"],
        "booking_status": b["status"],
    }


def _car(b: Mapping[str, Any]) -> dict[str, Any]:
    d = b["details"]
    return {
        "airport": d["airport"],
        "car_class": d["car_class"],
        "pick_up": d["pick_up"],
        "drop_off": d["drop_off"],
        "days": d["days"],
        "cars": d["cars"],
        "cost": b["total_price"],
        "booking": b["ref"],
        "booking_status": b["status"],
    }


def _not_booked(view: SynthesisView, booked_tasks: set[str]) -> list[dict[str, Any]]:
    """Bookings the plan held that the ledger does not: dropped, rejected, failed or unsent."""
    planned = []
    for task in view.tasks.values():
        if task["worker"] != "book" or task["id"] in booked_tasks:
            continue
        inputs = task["inputs"]
        why = {
            "cancelled": "dropped or rejected before booking",
            "failed": f"failed: {task['error'] or 'no reason given'}",
        }.get(task["status"], "not sent")
        planned.append(
            {
                "task_id": task["id"],
                "kind": inputs.get("kind"),
                "label": inputs.get("label") or inputs.get("item_id"),
                "price": inputs.get("price"),
                "why": why,
            }
        )
    return planned


def itinerary_data(view: SynthesisView) -> dict[str, Any]:
    facts = view.verdict.facts if view.verdict is not None else {}
    bookings: list[dict[str, Any]] = [b for b in facts.get("bookings", []) if b.get("details")]
    live = [b for b in bookings if b["status"] == "confirmed"]
    extra_nights = {(s["city"], s["check_in"]) for s in facts.get("stays", []) if s["extra_night"]}
    by_time = {
        # In UTC: local clocks can run backwards across time zones (a connection over the
        # date line leaves its hub at an earlier local time than it left its origin).
        "flight": lambda b: utc(departure(b["details"])).isoformat(),
        "hotel": lambda b: b["details"]["check_in"],
        "car": lambda b: b["details"]["pick_up"],
    }

    def of(kind: str) -> list[dict[str, Any]]:
        return sorted((b for b in live if b["kind"] == kind), key=by_time[kind])

    request = view.request or {}
    return {
        "legs": [_flight(b) for b in of("flight")],
        "connections": [dict(c) for c in facts.get("connections", [])],
        "hotels": [_hotel(b, extra_nights) for b in of("hotel")],
        "cars": [_car(b) for b in of("car")],
        "cancelled": [
            {"booking": b["ref"], "kind": b["kind"], "label": label(b), "cost": b["total_price"]}
            for b in bookings
            if b["status"] == "cancelled"
        ],
        "not_booked": _not_booked(view, {b["task_id"] for b in bookings}),
        "booked_total": round(sum(float(b["total_price"]) for b in live), 2),
        "budget": request.get("budget"),
        "unmet": list(view.verdict.unmet) if view.verdict is not None else [],
        "bookings": bookings,
        "decisions": [e["message"] for e in view.log if e["kind"] in ("decision", "approval")],
        "problems": [e["message"] for e in view.log if e["kind"] in ("rejected", "guard")],
        "planner_said": view.claim.reason if view.claim is not None else "",
    }


def _when(iso: str) -> str:
    return f"{iso[:10]} {iso[11:16]} (UTC{iso[19:]})" if len(iso) > 19 else iso


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _connection_line(c: Mapping[str, Any]) -> str:
    """'Leg 1 SFO → ORD → BCN: connection at ORD, 2 h 05 min (overnight, no hotel at ORD)'."""
    wait = int(c["layover_min"])
    night = f"; overnight, no hotel booked at {c['hub']}" if c["overnight"] else ""
    return (
        f"Leg {c['leg']} {' → '.join(c['route'])}: connection at {c['hub']}, "
        f"{wait // 60} h {wait % 60:02d} min{night}"
    )


def render_itinerary(data: Mapping[str, Any], status: str, reason: str) -> str:
    lines = [f"Trip status: {status.upper()} - {reason}"]
    said = data.get("planner_said") or ""
    if status != "completed" and said and said != reason:
        # The planner's own words, attributed: the status line above is the verifier's.
        lines.append(f"The planner stopped because: {said}")
    lines.append("")
    if data["legs"]:
        lines.append("Flights (local times):")
    connection_of = {ref: c for c in data.get("connections") or [] for ref in c["bookings"]}
    for leg in data["legs"]:
        joined = connection_of.get(leg["booking"])
        indent = "    " if joined else "  "
        if joined and joined["bookings"][0] == leg["booking"]:
            lines.append(f"  {_connection_line(joined)}")
        night = "  red-eye" if leg["red_eye"] else ""
        lines.append(
            f"{indent}{leg['flight_no']:<8} {leg['origin']} {_when(leg['depart_local'])} -> "
            f"{leg['destination']} {_when(leg['arrive_local'])}  x{leg['travelers']}  "
            f"{money(leg['cost'])}{night}  [{leg['booking']} {leg['booking_status']}]"
        )
    if data["hotels"]:
        lines.append("Hotels:")
    for h in data["hotels"]:
        extra = " incl. extra night" if h["extra_night"] else ""
        lines.append(
            f"  {h['name']} ({h['tier']}*) {h['city']}  {h['check_in']} -> {h['check_out']}  "
            f"{_n(h['nights'], 'night')} x{_n(h['rooms'], 'room')}{extra}  {money(h['cost'])}"
            f"  [{h['booking']} {h['booking_status']}]"
        )
    if data["cars"]:
        lines.append("Cars:")
    for c in data["cars"]:
        lines.append(
            f"  {c['cars']} x {c['car_class']} at {c['airport']}  {c['pick_up']} -> "
            f"{c['drop_off']}  {_n(c['days'], 'day')}  {money(c['cost'])}"
            f"  [{c['booking']} {c['booking_status']}]"
        )
    if data["cancelled"]:
        lines.append("Cancelled:")
        lines.extend(f"  {c['label']}  [{c['booking']} cancelled]" for c in data["cancelled"])
    if data["not_booked"]:
        lines.append("Planned, not booked:")
        for item in data["not_booked"]:
            price = f"  {money(float(item['price']))}" if item["price"] is not None else ""
            lines.append(f"  {item['label']}{price}  ({item['why']})")
    lines.append("")
    total = float(data["booked_total"])
    budget = data["budget"]
    against = ""
    if budget is not None:
        budget = float(budget)
        if total <= budget + 0.005:
            against = f" (budget {money(budget)}: {money(budget - total)} left)"
        else:
            against = f" (budget {money(budget)}: {money(total - budget)} over)"
    lines.append(f"Booked total: {money(total)}{against}")
    if data["unmet"]:
        lines.append("")
        lines.append("Not met:")
        lines.extend(f"  - {u}" for u in data["unmet"])
    if data["decisions"]:
        lines.append("")
        lines.append("Decisions:")
        lines.extend(f"  - {d}" for d in data["decisions"])
    if data["problems"]:
        lines.append("Problems:")
        lines.extend(f"  - {p}" for p in data["problems"])
    return "\n".join(lines)


class ItinerarySynthesizer:
    """Writes the trip as the ledger holds it, for any planner: legs, hotels, cars, references,
    what was planned but not booked, and the decisions log."""

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]:
        data = itinerary_data(view)
        answer = Answer(
            status=view.status,
            reason=view.reason,
            summary=render_itinerary(data, view.status, view.reason),
            data=data,
        )
        return answer, []
