import { chartPaths, type SeriesData } from '../lib/chart-data.ts';

const geometry = { width: 560, height: 170, padding: { top: 10, right: 10, bottom: 22, left: 44 } };
const colors = ['var(--chart-1)', 'var(--chart-2)', 'var(--chart-3)'];

/**
 * A small SVG line chart: the series, a y maximum, the window's start and end. Its figures are also
 * given as text (the title and the legend), so it reads without seeing the lines.
 */
export function LineChart({
  title,
  series,
  format,
  formatX = (at) => new Date(at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }),
}: {
  title: string;
  series: SeriesData[];
  format: (value: number) => string;
  formatX?: (at: number) => string;
}) {
  const { paths, maxY, minX, maxX } = chartPaths(series, geometry);
  const { width, height, padding } = geometry;
  const latest = series.map((item) => {
    const last = [...item.points].reverse().find((point) => point.y !== null);
    return `${item.label} ${last?.y === undefined || last.y === null ? '—' : format(last.y)}`;
  });
  return (
    <figure className="stack" style={{ margin: 0 }}>
      <figcaption className="row spread">
        <strong className="small">{title}</strong>
        <span className="legend">
          {series.map((item, index) => (
            <span key={item.label} style={{ color: colors[index % colors.length] }}>
              {item.label}
            </span>
          ))}
        </span>
      </figcaption>
      <svg
        className="chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}: latest ${latest.join(', ')}`}
      >
        <line
          className="axis"
          x1={padding.left}
          x2={width - padding.right}
          y1={height - padding.bottom}
          y2={height - padding.bottom}
        />
        <line
          className="axis"
          x1={padding.left}
          x2={width - padding.right}
          y1={padding.top}
          y2={padding.top}
          strokeDasharray="3 4"
        />
        <text x={padding.left - 6} y={padding.top + 4} textAnchor="end">
          {format(maxY)}
        </text>
        <text x={padding.left - 6} y={height - padding.bottom} textAnchor="end">
          0
        </text>
        <text x={padding.left} y={height - 6}>
          {formatX(minX)}
        </text>
        <text x={width - padding.right} y={height - 6} textAnchor="end">
          {formatX(maxX)}
        </text>
        {paths.map((d, index) => (
          <path
            key={series[index]?.label ?? index}
            d={d}
            className="chart-line"
            stroke={colors[index % colors.length]}
          />
        ))}
      </svg>
    </figure>
  );
}
