// The warning before the idle log-off (privacy.middleware, SESSION_IDLE_SECONDS).
// The server says how long the session has left: in the page (data-seconds-left) and on
// every htmx answer (X-Session-Seconds-Left). A little before the end a dialog offers to
// stay signed in; at the end the page, which may show patient data, gives way to the
// login page. Tabs share the latest deadline (localStorage): work in one tab keeps the
// others open, since they share one session.
(() => {
  const box = document.getElementById("session-timer");
  if (!box) return;
  const dialog = box.querySelector("dialog");
  const countdown = box.querySelector("[data-session-countdown]");
  const text = box.querySelector("[data-session-text]");
  const stay = box.querySelector("[data-session-stay]");
  const token = box.querySelector("input[name=csrfmiddlewaretoken]");
  const warningMs = Number(box.dataset.warningSeconds) * 1000;
  const KEY = "stepwise.session.deadline";
  let deadline = 0;
  let leaving = false;

  const stored = () => {
    try {
      return Number(window.localStorage.getItem(KEY)) || 0;
    } catch (e) {
      return 0; // storage refused (private mode): this tab counts alone
    }
  };
  const setSecondsLeft = (seconds) => {
    deadline = Date.now() + seconds * 1000;
    try {
      window.localStorage.setItem(KEY, String(deadline));
    } catch (e) {
      /* this tab counts alone */
    }
  };
  const clock = (ms) => {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  const leave = () => {
    if (leaving) return;
    leaving = true;
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${box.dataset.loginUrl}?next=${encodeURIComponent(next)}`);
  };
  const check = () => {
    // The latest deadline of any tab is the session's: each renewal moves it later.
    const left = Math.max(deadline, stored()) - Date.now();
    if (left <= 0) {
      leave();
    } else if (left <= warningMs) {
      countdown.textContent = clock(left);
      if (!dialog.open) dialog.showModal();
    } else if (dialog.open) {
      dialog.close();
    }
  };
  const renew = async () => {
    stay.disabled = true;
    try {
      const response = await fetch(box.dataset.renewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" },
      });
      const json = (response.headers.get("Content-Type") || "").includes("application/json");
      if (!response.ok || !json) {
        leave(); // the session had already ended: the answer was the login page
        return;
      }
      const seconds = (await response.json()).seconds_left;
      setSecondsLeft(seconds);
      if (seconds * 1000 <= warningMs) {
        // Only the absolute limit (hours after login) is left: renewing cannot help.
        text.textContent = box.dataset.limitText;
        stay.hidden = true;
      }
      check();
    } catch (e) {
      check(); // offline for a moment: keep counting, the next try may work
    } finally {
      stay.disabled = false;
    }
  };

  stay.addEventListener("click", renew);
  // Escape means the person is there: the same as "Stay signed in".
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    renew();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const header = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Session-Seconds-Left");
    if (header !== null && header !== undefined && header !== "") setSecondsLeft(Number(header));
  });
  setSecondsLeft(Number(box.dataset.secondsLeft));
  check();
  window.setInterval(check, 1000);
})();
