"""Meetings: responses, cancel and forward; reminders; and scheduling (getSchedule,
findMeetingTimes) over the stored calendars."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mscal.sandbox.domain.meetings import RESPONSES
from mscal.sandbox.domain.timezones import to_utc
from mscal.sandbox.errors import bad_request
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.responses import collection, empty, metadata
from mscal.sandbox.http.routing import Handler, Route


def _respond(action: str, response: str) -> Handler:
    def respond(call: Call) -> Response:
        body = call.json(action=action)
        call.tenant.meetings.respond(call.owner, call.params["event"], response, body)
        return empty(202)

    return respond


def cancel(call: Call) -> Response:
    call.json(action="cancel")
    call.tenant.meetings.cancel(call.owner, call.params["event"])
    return empty(202)


def forward(call: Call) -> Response:
    body = call.json(action="forward")
    call.tenant.meetings.forward(call.owner, call.params["event"], body)
    return empty(202)


def dismiss_reminder(call: Call) -> Response:
    call.json(action="dismissReminder")
    call.tenant.reminders.set_reminder(call.owner, call.params["event"], snooze_until=None)
    return empty(200)


def snooze_reminder(call: Call) -> Response:
    when = call.json(action="snoozeReminder").get("newReminderTime")
    if not isinstance(when, dict) or not when.get("dateTime"):
        raise bad_request("newReminderTime is required.", "ErrorInvalidParameter")
    until = to_utc(str(when["dateTime"]), when.get("timeZone"))
    call.tenant.reminders.set_reminder(call.owner, call.params["event"], snooze_until=until)
    return empty(200)


def reminder_view(call: Call) -> Response:
    first, last = call.arg("StartDateTime"), call.arg("EndDateTime")
    if first is None or last is None:
        raise bad_request(
            "reminderView needs StartDateTime and EndDateTime.", "ErrorInvalidParameter"
        )
    start, end = to_utc(first, "UTC"), to_utc(last, "UTC")
    reminders = call.tenant.reminders.reminders(call.owner, start, end)
    return collection(call, "reminders", reminders, raw=True)


def find_meeting_times(call: Call) -> Response:
    result = call.tenant.scheduling.find_meeting_times(
        call.owner, call.json(action="findMeetingTimes")
    )
    return JSONResponse(
        {"@odata.context": metadata(call, "microsoft.graph.meetingTimeSuggestionsResult"), **result}
    )


def get_schedule(call: Call) -> Response:
    value = call.tenant.scheduling.get_schedule(call.json(action="getSchedule"))
    return JSONResponse(
        {
            "@odata.context": metadata(call, "Collection(microsoft.graph.scheduleInformation)"),
            "value": value,
        }
    )


# Under the owner: scheduling and reminders across the mailbox.
OWNER_ROUTES = [
    Route("POST", "findMeetingTimes", find_meeting_times, unknown_otherwise=0),
    Route("GET", "reminderView(...)", reminder_view, unknown_otherwise=0),
]
# Under any calendar.
CALENDAR_ROUTES = [Route("POST", "getSchedule", get_schedule, unknown_otherwise=0)]
# Under the owner (/me/events/...) and under any calendar.
EVENT_ROUTES = [
    *(
        Route("POST", f"events/{{event}}/{action}", _respond(action, r))
        for action, r in RESPONSES.items()
    ),
    Route("POST", "events/{event}/cancel", cancel),
    Route("POST", "events/{event}/forward", forward),
    Route("POST", "events/{event}/dismissReminder", dismiss_reminder),
    Route("POST", "events/{event}/snoozeReminder", snooze_reminder),
]
