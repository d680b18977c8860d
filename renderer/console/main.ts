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

followNow();
