/**
 * The console's only script (the pages work without it): the Now page's live feed. The server says "changed" over
 * server-sent events; the page then fetches its live part again, as the server renders it for this person.
 */
function followNow(): void {
  const live = document.getElementById('now-live');
  const status = document.getElementById('live-status');
  const feed = live?.dataset['feed'];
  if (!live || !feed) return;
  const events = new EventSource(feed);
  let fetching = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const response = await fetch('/now/live', { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (response.redirected || response.status === 401) {
        window.location.assign('/sign-in?expired=1');
        return;
      }
      if (response.ok) {
        // Server-rendered and escaped there, from this person's own view of central.
        live.innerHTML = await response.text();
        live.dataset['updated'] = String(Date.now());
      }
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  events.addEventListener('changed', () => void refresh());
  events.addEventListener('error', () => status?.classList.add('offline'));
  events.addEventListener('open', () => status?.classList.remove('offline'));
}

/**
 * The roster import's progress page (only where it is): asks the job's status endpoint how far the preview or the apply
 * has come and moves the bar; once the job is past that phase, reloads, and the server renders the preview or the
 * outcome. Without script the page has a Refresh link.
 */
function followRosterImport(): void {
  const state = document.getElementById('import-state');
  const url = state?.dataset['status'];
  const phase = state?.dataset['phase'];
  if (!state || !url || !phase) return;
  const bar = document.getElementById('import-progress');
  const look = async (): Promise<void> => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (response.redirected || response.status === 401) {
        window.location.assign('/sign-in?expired=1');
        return;
      }
      if (response.ok) {
        const status = (await response.json()) as { phase: string; done: number; total: number; text: string };
        if (status.phase !== phase) {
          window.location.reload();
          return;
        }
        if (bar instanceof HTMLProgressElement && status.total > 0) {
          bar.max = status.total;
          bar.value = status.done;
        }
        state.textContent = status.text;
      } else if (response.status === 404) {
        // The job is gone (the session ended elsewhere): the page says so.
        window.location.reload();
        return;
      }
    } catch {
      // The console restarting or the network gone for a moment: look again.
    }
    window.setTimeout(() => void look(), 500);
  };
  void look();
}

followNow();
followRosterImport();
