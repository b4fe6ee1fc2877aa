import { useState } from 'react';
import { useModels } from '../../api/models.ts';
import { useUsageSummary } from '../../api/usage.ts';
import { Link } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { Badge, Card } from '../../ui/layout.tsx';

const dismissedKey = 'ensemble.tourDismissed';

const uses: Record<string, string> = {
  chat: 'Chat in the Playground',
  embedding: 'Embed texts (test it on its page)',
  classifier: 'Classify texts (test it on its page)',
};

/**
 * Shown on an install that has served nothing yet: the built-in local models (no provider account
 * needed) and where to start. Dismissed once, remembered by the browser.
 */
export function FirstRunTour() {
  const [dismissed, setDismissed] = useState(() => localStorage.getItem(dismissedKey) === 'yes');
  const dayAgo = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 86_400_000).toISOString();
  const usage = useUsageSummary({ from: dayAgo, bucket: 'day' });
  const builtIns = useModels({ tag: 'built-in' });
  if (dismissed || !usage.data || usage.data.totals.requests > 0) return null;

  const dismiss = () => {
    localStorage.setItem(dismissedKey, 'yes');
    setDismissed(true);
  };
  return (
    <Card
      title="Welcome to Ensemble"
      actions={
        <Button variant="ghost" onClick={dismiss}>
          Dismiss
        </Button>
      }
    >
      <div className="stack">
        <p style={{ margin: 0 }}>
          Nothing has been served yet. These models run inside Ensemble itself — no provider account, no API key for a
          provider:
        </p>
        <table aria-label="Built-in models">
          <tbody>
            {(builtIns.data?.data ?? []).map((model) => (
              <tr key={model.name}>
                <td className="mono">{model.name}</td>
                <td>{model.kind}</td>
                <td>
                  <Badge status={model.status} />
                </td>
                <td>
                  {model.kind === 'chat' ? (
                    <Link to={`/playground?model=${encodeURIComponent(model.name)}`}>{uses.chat}</Link>
                  ) : (
                    <Link to={`/models/${model.name}`}>{uses[model.kind] ?? 'Open'}</Link>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <ol className="small" style={{ margin: 0, paddingLeft: 18 }}>
          <li>
            Try a model in the <Link to="/playground">Playground</Link>, then press <em>View as code</em> for the curl
            or OpenAI SDK call.
          </li>
          <li>
            Register a hosted model (OpenAI, Anthropic, any OpenAI-compatible server) on the{' '}
            <Link to="/models">Models</Link> page.
          </li>
          <li>
            Create a key for your application on the <Link to="/keys">Keys</Link> page, and watch its traffic here and
            in <Link to="/usage">Usage</Link>.
          </li>
        </ol>
      </div>
    </Card>
  );
}
