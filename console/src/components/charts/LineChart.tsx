import { clockLabel, Legend, PlotFrame, TimeGrid, timePlot, useWidth } from './scale';
import type { Series } from './scale';

export interface Point {
  /** Epoch ms. */
  at: number;
  /** Missing: no value here (the line breaks). */
  values: Record<string, number | undefined>;
}

const HEIGHT = 200;
const PAD = { top: 12, right: 12, bottom: 28, left: 56 };

/**
 * Lines over time, hand-drawn SVG: one line per series (class `line-<key>`), broken where a
 * point has no value, a dot on each point, y axis with round ticks formatted by `format`.
 */
export function LineChart({
  points,
  series,
  from,
  to,
  title,
  yLabel,
  format,
  testId,
}: {
  points: Point[];
  series: Series[];
  from: number;
  to: number;
  title: string;
  yLabel: string;
  format: (value: number) => string;
  testId?: string;
}) {
  const [ref, width] = useWidth<HTMLElement>();
  const all = points.flatMap((p) => series.map((s) => p.values[s.key] ?? 0));
  const plot = timePlot(width, HEIGHT, PAD, from, to, Math.max(1, ...all));
  const { x, y } = plot;
  const has = points.some((p) => series.some((s) => p.values[s.key] !== undefined));
  const summary = series
    .map((s) => {
      const values = points.map((p) => p.values[s.key]).filter((v) => v !== undefined);
      return values.length ? `${s.label} up to ${format(Math.max(...values))}` : '';
    })
    .filter(Boolean)
    .join(', ');
  return (
    <figure className="card chart" ref={ref} data-testid={testId}>
      <figcaption className="chart-title">{title}</figcaption>
      <svg
        width={width}
        height={HEIGHT}
        role="img"
        aria-label={`${title}${summary ? `: ${summary}` : ': no data'}`}
      >
        <TimeGrid plot={plot} yLabel={yLabel} format={format} />
        {series.map((s) => {
          // One path, with a move (M) after every gap.
          let d = '';
          let pen = false;
          for (const p of points) {
            const v = p.values[s.key];
            if (v === undefined) {
              pen = false;
              continue;
            }
            d += `${pen ? 'L' : 'M'}${x(p.at).toFixed(1)} ${y(v).toFixed(1)}`;
            pen = true;
          }
          return (
            <g key={s.key} className={`line line-${s.key}`}>
              <path d={d} fill="none" />
              {points.map((p) => {
                const v = p.values[s.key];
                return v === undefined ? null : (
                  <circle key={p.at} cx={x(p.at)} cy={y(v)} r={2.5}>
                    <title>{`${clockLabel(p.at)}: ${s.label} ${format(v)}`}</title>
                  </circle>
                );
              })}
            </g>
          );
        })}
        <PlotFrame
          pad={PAD}
          width={plot.plotW}
          height={plot.plotH}
          empty={!has ? 'no executions ran in this window' : undefined}
        />
      </svg>
      <Legend series={series} line />
    </figure>
  );
}
