import { anchor, clockLabel, Legend, PlotFrame, niceTicks, timeTicks, useWidth } from './scale';
import type { Series } from './scale';

export interface Bar {
  /** Bucket start, epoch ms. */
  start: number;
  values: Record<string, number>;
}

const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 44 };

/**
 * Stacked bars over time, hand-drawn SVG: one bar per bucket, one segment per series (class
 * `bar-<key>`), y axis with round ticks, x axis with clock times, a legend below.
 */
export function StackedBarChart({
  bars,
  series,
  bucketMs,
  from,
  to,
  title,
  yLabel,
  testId,
}: {
  bars: Bar[];
  series: Series[];
  bucketMs: number;
  from: number;
  to: number;
  title: string;
  yLabel: string;
  testId?: string;
}) {
  const [ref, width] = useWidth<HTMLElement>();
  const plotW = Math.max(60, width - PAD.left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const span = Math.max(1, to - from);
  const x = (t: number) => PAD.left + ((t - from) / span) * plotW;
  const totals = bars.map((bar) => series.reduce((sum, s) => sum + (bar.values[s.key] ?? 0), 0));
  const max = Math.max(0, ...totals);
  const ticks = niceTicks(Math.max(max, 4));
  const top = ticks[ticks.length - 1];
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const barW = Math.max(1, (bucketMs / span) * plotW - (plotW > 300 ? 2 : 1));
  const xTicks = timeTicks(from, to, Math.max(2, Math.floor(plotW / 70)));
  const total = totals.reduce((a, b) => a + b, 0);
  const summary = series
    .map((s) => `${bars.reduce((sum, bar) => sum + (bar.values[s.key] ?? 0), 0)} ${s.label}`)
    .join(', ');
  return (
    <figure className="card chart" ref={ref} data-testid={testId}>
      <figcaption className="chart-title">{title}</figcaption>
      <svg
        width={width}
        height={HEIGHT}
        role="img"
        aria-label={`${title}: ${total} in all (${summary})`}
      >
        {ticks.map((v) => (
          <g key={v} className="chart-grid">
            <line x1={PAD.left} x2={PAD.left + plotW} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        <text
          className="chart-axis-label"
          transform={`translate(12 ${PAD.top + plotH / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {yLabel}
        </text>
        {xTicks.map((t) => (
          <g key={t} className="chart-grid">
            <line x1={x(t)} x2={x(t)} y1={PAD.top + plotH} y2={PAD.top + plotH + 4} />
            <text x={x(t)} y={HEIGHT - 8} textAnchor={anchor(x(t), PAD.left, PAD.left + plotW)}>
              {clockLabel(t, span > 86_400_000)}
            </text>
          </g>
        ))}
        {bars.map((bar, i) => {
          let base = 0;
          return (
            <g key={bar.start}>
              {series.map((s) => {
                const v = bar.values[s.key] ?? 0;
                if (v <= 0) return null;
                const y0 = y(base);
                base += v;
                return (
                  <rect
                    key={s.key}
                    className={`bar bar-${s.key}`}
                    x={x(bar.start) + (plotW > 300 ? 1 : 0)}
                    y={y(base)}
                    width={barW}
                    height={Math.max(0.5, y0 - y(base))}
                  />
                );
              })}
              {totals[i] > 0 && (
                <rect
                  className="bar-hit"
                  x={x(bar.start)}
                  y={PAD.top}
                  width={Math.max(barW, 2)}
                  height={plotH}
                >
                  <title>
                    {`${clockLabel(bar.start)}: ${series
                      .filter((s) => (bar.values[s.key] ?? 0) > 0)
                      .map((s) => `${bar.values[s.key]} ${s.label}`)
                      .join(', ')}`}
                  </title>
                </rect>
              )}
            </g>
          );
        })}
        <PlotFrame
          pad={PAD}
          width={plotW}
          height={plotH}
          empty={total === 0 ? 'nothing finished in this window' : undefined}
        />
      </svg>
      <Legend series={series} />
    </figure>
  );
}
