"""The travel synthesizer: the itinerary, in each place's local time, with costs and decisions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from orchestrator.planning import SynthesisView
from state import Answer, Usage


def _booked(view: SynthesisView) -> dict[str, dict[str, Any]]:
    """Confirmed or cancelled bookings by slot ('flight-1', 'hotel-1'...), latest attempt wins."""
    by_slot: dict[str, dict[str, Any]] = {}
    records: Mapping[str, Any] = view.notes.get("bookings", {})
    for task_id, record in records.items():
        task = view.tasks.get(task_id)
        result = view.results.get(task["result_ref"] or "") if task else None
        if result and result["ok"] and result["output"]:
            by_slot[record["slot"]] = result["output"]
    for task in view.tasks.values():
        result = view.results.get(task["result_ref"] or "")
        if task["worker"] == "cancel" and result and result["ok"] and result["output"]:
            for slot, booking in by_slot.items():
                if booking["ref"] == result["output"]["ref"]:
                    by_slot[slot] = result["output"]
    return by_slot


def _reference(booked: Mapping[str, dict[str, Any]], slot: str) -> dict[str, Any]:
    booking = booked.get(slot)
    return {
        "booking": booking["ref"] if booking else None,
        "booking_status": booking["status"] if booking else None,
    }


def itinerary_data(view: SynthesisView) -> dict[str, Any]:
    notes = view.notes
    request = view.request or {}
    travelers = int(request.get("travelers", 1))
    booked = _booked(view)
    legs = []
    for i, leg in enumerate(notes.get("legs", [])):
        choice = leg.get("choice")
        if not choice:
            continue
        legs.append(
            {
                "flight_no": choice["flight_no"],
                "origin": choice["origin"],
                "destination": choice["destination"],
                "depart_local": choice["depart_local"],
                "arrive_local": choice["arrive_local"],
                "red_eye": choice["red_eye"],
                "cost": round(choice["price"] * travelers, 2),
                **_reference(booked, f"flight-{i + 1}"),
            }
        )
    hotels = []
    for stay in notes.get("stays", []):
        choice = stay.get("choice")
        if not choice:
            continue
        hotels.append(
            {
                "name": choice["name"],
                "city": choice["city"],
                "tier": choice["tier"],
                "check_in": choice["check_in"],
                "check_out": choice["check_out"],
                "nights": choice["nights"],
                "rooms": choice["rooms"],
                "extra_night": bool(stay.get("extra_night")),
                "cost": choice["total_price"],
                **_reference(booked, f"hotel-{stay['leg'] + 1}"),
            }
        )
    cars = []
    for car in notes.get("cars", []):
        choice = car.get("choice")
        if not choice:
            continue
        cars.append(
            {
                "airport": choice["airport"],
                "car_class": choice["car_class"],
                "pick_up": choice["pick_up"],
                "drop_off": choice["drop_off"],
                "days": choice["days"],
                "cost": choice["total_price"],
                **_reference(booked, f"car-{car['leg'] + 1}"),
            }
        )
    confirmed = [b for b in booked.values() if b["status"] == "confirmed"]
    planned = sum(x["cost"] for x in [*legs, *hotels, *cars])
    return {
        "legs": legs,
        "hotels": hotels,
        "cars": cars,
        "planned_total": round(planned, 2),
        "booked_total": round(sum(b["total_price"] for b in confirmed), 2),
        "budget": request.get("budget"),
        "bookings": sorted(booked.values(), key=lambda b: b["created_at"]),
        "decisions": [e["message"] for e in view.log if e["kind"] in ("decision", "approval")],
        "problems": [e["message"] for e in view.log if e["kind"] in ("rejected", "guard")],
    }


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _when(iso: str) -> str:
    return f"{iso[:10]} {iso[11:16]} (UTC{iso[19:]})" if len(iso) > 19 else iso


def render_itinerary(data: Mapping[str, Any], status: str, reason: str) -> str:
    lines = [f"Trip status: {status.upper()} - {reason}", ""]
    if data["legs"]:
        lines.append("Flights (local times):")
    for leg in data["legs"]:
        ref = f"  [{leg['booking']} {leg['booking_status']}]" if leg["booking"] else ""
        night = "  red-eye" if leg["red_eye"] else ""
        lines.append(
            f"  {leg['flight_no']:<8} {leg['origin']} {_when(leg['depart_local'])} -> "
            f"{leg['destination']} {_when(leg['arrive_local'])}  {_money(leg['cost'])}{night}{ref}"
        )
    if data["hotels"]:
        lines.append("Hotels:")
    for h in data["hotels"]:
        ref = f"  [{h['booking']} {h['booking_status']}]" if h["booking"] else ""
        extra = " incl. extra night" if h["extra_night"] else ""
        lines.append(
            f"  {h['name']} ({h['tier']}*) {h['city']}  {h['check_in']} -> {h['check_out']}  "
            f"{h['nights']} nights x{h['rooms']} room(s){extra}  {_money(h['cost'])}{ref}"
        )
    if data["cars"]:
        lines.append("Cars:")
    for c in data["cars"]:
        ref = f"  [{c['booking']} {c['booking_status']}]" if c["booking"] else ""
        lines.append(
            f"  {c['car_class']} at {c['airport']}  {c['pick_up']} -> {c['drop_off']}  "
            f"{c['days']} days  {_money(c['cost'])}{ref}"
        )
    budget = data["budget"]
    against = f" (budget {_money(budget)})" if budget is not None else ""
    lines.append("")
    lines.append(f"Planned total: {_money(data['planned_total'])}{against}")
    lines.append(f"Booked total:  {_money(data['booked_total'])}")
    if data["decisions"]:
        lines.append("")
        lines.append("Decisions:")
        lines.extend(f"  - {d}" for d in data["decisions"])
    if data["problems"]:
        lines.append("Problems:")
        lines.extend(f"  - {p}" for p in data["problems"])
    return "\n".join(lines)


class ItinerarySynthesizer:
    """Writes the trip as an itinerary: legs, hotels, cars, costs, references and decisions.

    It reads the chosen options from the planner's notes, as the offline planner keeps them;
    `notes_from` rebuilds them in that shape for planners that keep none (the LLM planner).
    """

    def __init__(
        self, notes_from: Callable[[SynthesisView], Mapping[str, Any]] | None = None
    ) -> None:
        self._notes_from = notes_from

    async def synthesize(self, view: SynthesisView) -> tuple[Answer, list[Usage]]:
        if self._notes_from is not None:
            view = replace(view, notes=self._notes_from(view))
        data = itinerary_data(view)
        answer = Answer(
            status=view.status,
            reason=view.reason,
            summary=render_itinerary(data, view.status, view.reason),
            data=data,
        )
        return answer, []
