import { api, type DatasetListing } from '../api.js';
import { Empty, Status } from '../components.js';
import { fmtInt, fmtTime } from '../format.js';
import { useLoad } from '../hooks.js';

/** Datasets curated from production calls (docs/fine-tuning.md): `llmwatch dataset create` makes them. */
export function DatasetsPage() {
  const loaded = useLoad((signal) => api<{ datasets: DatasetListing[] }>('datasets', {}, signal), 'datasets');
  return (
    <main id="main" tabIndex={-1}>
      <header class="page-head">
        <h1>Datasets</h1>
      </header>
      <Status loaded={loaded} what="datasets" />
      {loaded.state === 'ready' &&
        (loaded.data.datasets.length === 0 ? (
          <Empty>
            No datasets yet: <code>llmwatch dataset create</code> curates one from production calls.
          </Empty>
        ) : (
          <section class="panel">
            <table class="data" data-testid="datasets-table">
              <thead>
                <tr>
                  <th scope="col">Dataset</th>
                  <th scope="col" class="num">
                    Versions
                  </th>
                  <th scope="col" class="num">
                    Latest
                  </th>
                  <th scope="col" class="num">
                    Items
                  </th>
                  <th scope="col">Content hash</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {loaded.data.datasets.map((d) => (
                  <tr key={d.name}>
                    <td>{d.name}</td>
                    <td class="num">{fmtInt(d.versions)}</td>
                    <td class="num">v{d.latestVersion}</td>
                    <td class="num">{fmtInt(d.items)}</td>
                    <td>
                      <code>{d.latestHash.slice(0, 23)}…</code>
                    </td>
                    <td>{fmtTime(d.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
    </main>
  );
}
