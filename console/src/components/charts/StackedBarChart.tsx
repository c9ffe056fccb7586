import { clockLabel, Legend, PlotFrame, TimeGrid, timePlot, useWidth } from './scale';
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
  const totals = bars.map((bar) => series.reduce((sum, s) => sum + (bar.values[s.key] ?? 0), 0));
  const plot = timePlot(width, HEIGHT, PAD, from, to, Math.max(4, ...totals));
  const { plotW, plotH, x, y } = plot;
  const barW = Math.max(1, (bucketMs / plot.span) * plotW - (plotW > 300 ? 2 : 1));
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
        <TimeGrid plot={plot} yLabel={yLabel} />
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
