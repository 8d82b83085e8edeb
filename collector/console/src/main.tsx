import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetKey, onUnauthorized, storeKey, storedKey } from './api.js';
import { CallPage } from './pages/call.js';
import { CallsPage } from './pages/calls.js';
import { ComparePage } from './pages/compare.js';
import { DatasetsPage } from './pages/datasets.js';
import { AlertPage, AlertsPage } from './pages/alerts.js';
import { OverviewPage } from './pages/overview.js';
import { TracePage } from './pages/trace.js';
import { href, navigate, useRoute, type Route } from './router.js';
import './styles.css';

type Theme = 'light' | 'dark';
const THEME_ITEM = 'llmwatch.theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_ITEM);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function KeyPrompt(props: { onKey: () => void; rejected: boolean }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const key = new FormData(event.currentTarget as HTMLFormElement).get('key');
    if (typeof key === 'string' && key.trim()) {
      storeKey(key.trim());
      props.onKey();
    }
  };
  return (
    <main id="main" class="key-prompt">
      <form onSubmit={submit} aria-labelledby="key-title" data-testid="key-form">
        <h1 id="key-title">Project key</h1>
        <p>
          This collector serves several projects. Enter the project key your apps send as{' '}
          <code>Authorization: Bearer …</code>; the console shows that project only and keeps the key for this
          tab.
        </p>
        {props.rejected && storedKey() === null && (
          <p class="error" role="alert">
            The collector refused that key.
          </p>
        )}
        <label>
          Key
          <input name="key" type="password" autoComplete="off" required autoFocus />
        </label>
        <button type="submit">Open</button>
      </form>
    </main>
  );
}

function Page(props: { route: Route }) {
  const [first, second, third] = props.route.parts;
  if (first === 'calls' && second && third) return <CallPage traceId={second} spanId={third} />;
  if (first === 'calls') return <CallsPage route={props.route} />;
  if (first === 'traces' && second) return <TracePage traceId={second} />;
  if (first === 'alerts' && second) return <AlertPage id={second} />;
  if (first === 'alerts') return <AlertsPage route={props.route} />;
  if (first === 'compare') return <ComparePage route={props.route} />;
  if (first === 'datasets') return <DatasetsPage />;
  if (!first) return <OverviewPage route={props.route} />;
  return (
    <main id="main">
      <h1>Not found</h1>
      <p>
        No page at <code>{location.hash}</code>. <a href="#/">Overview</a>
      </p>
    </main>
  );
}

const NAV = [
  ['', 'Overview'],
  ['calls', 'Calls'],
  ['alerts', 'Alerts'],
  ['compare', 'Compare'],
  ['datasets', 'Datasets'],
] as const;

function App() {
  const route = useRoute();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [needKey, setNeedKey] = useState(false);
  const [rejected, setRejected] = useState(false);
  // Bumped when a key is entered so every page loads again with it.
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(
    () =>
      onUnauthorized(() => {
        // Several requests may be refused at once: only the first one saw the stored key.
        if (storedKey() !== null) {
          setRejected(true);
          forgetKey();
        }
        setNeedKey(true);
      }),
    [],
  );
  useEffect(() => {
    // `g o` / `g c` / `g a` jump between sections; `/` focuses the first search or filter box.
    let pendingG = false;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select') || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === '/') {
        const box = document.querySelector<HTMLInputElement>('main input');
        if (box) {
          e.preventDefault();
          box.focus();
        }
      } else if (pendingG) {
        pendingG = false;
        const to = { o: '', c: 'calls', a: 'alerts' }[e.key];
        if (to !== undefined) navigate(href(to));
      } else if (e.key === 'g') pendingG = true;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [route.parts.join('/')]);

  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_ITEM, next);
    setTheme(next);
  };
  const section = route.parts[0] ?? '';
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          llmwatch
        </a>
        <nav aria-label="Sections">
          {NAV.map(([path, name]) => (
            <a
              key={path}
              href={href(path)}
              class={section === path || (path === 'calls' && section === 'traces') ? 'active' : ''}
              aria-current={section === path ? 'page' : undefined}
            >
              {name}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {storedKey() !== null && (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              forgetKey();
              setRejected(false);
              setNeedKey(true);
            }}
          >
            Change key
          </button>
        )}
        <button
          type="button"
          class="ghost"
          onClick={toggleTheme}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          data-testid="theme-toggle"
        >
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      {needKey ? (
        <KeyPrompt
          rejected={rejected}
          onKey={() => {
            setNeedKey(false);
            setGeneration(generation + 1);
          }}
        />
      ) : (
        <Page key={generation} route={route} />
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
