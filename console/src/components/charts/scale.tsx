import { useLayoutEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';

/** About `count` round tick values from 0 to at least `max` (1, 2, 5 × 10^n steps). */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** `02:15` in the browser's zone (with the day for windows over a day). */
export function clockLabel(ms: number, withDay = false): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return withDay ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
}

/** Text anchor for an x-axis label at `x`: kept inside the plot near its edges. */
export function anchor(x: number, left: number, right: number): 'start' | 'middle' | 'end' {
  return x > right - 18 ? 'end' : x < left + 18 ? 'start' : 'middle';
}

/** Time ticks between `from` and `to`, on round minutes, at most `max` of them. */
export function timeTicks(from: number, to: number, max: number): number[] {
  const span = to - from;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720].map((m) => m * 60_000);
  const step = steps.find((s) => span / s <= max) ?? steps[steps.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** The width of an element, followed as it resizes. */
export function useWidth<T extends HTMLElement>(initial = 640): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver(([entry]) => setWidth(Math.round(entry.contentRect.width)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export interface Series {
  key: string;
  label: string;
}

/** The legend under a chart: a swatch (class `swatch-<key>`) and a label per series. */
export function Legend({ series, line = false }: { series: Series[]; line?: boolean }) {
  return (
    <ul className="legend">
      {series.map((s) => (
        <li key={s.key}>
          <span
            className={`swatch swatch-${s.key}${line ? ' swatch-line' : ''}`}
            aria-hidden="true"
          />
          {s.label}
        </li>
      ))}
    </ul>
  );
}

export interface Padding {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** The two axes of a plot area, and a message in its middle when there is nothing to draw. */
export function PlotFrame({
  pad,
  width,
  height,
  empty,
}: {
  pad: Padding;
  width: number;
  height: number;
  /** Shown when set (the chart has no data). */
  empty?: string;
}) {
  const bottom = pad.top + height;
  return (
    <>
      <line className="chart-axis" x1={pad.left} x2={pad.left + width} y1={bottom} y2={bottom} />
      <line className="chart-axis" x1={pad.left} x2={pad.left} y1={pad.top} y2={bottom} />
      {empty && (
        <text
          x={pad.left + width / 2}
          y={pad.top + height / 2}
          textAnchor="middle"
          className="chart-empty"
        >
          {empty}
        </text>
      )}
    </>
  );
}

/** The geometry of a chart over time: its plot area, x over [from, to], y from 0 up. */
export interface TimePlot {
  pad: Padding;
  /** Height of the whole SVG. */
  height: number;
  plotW: number;
  plotH: number;
  /** to - from, at least 1 ms. */
  span: number;
  /** Round y values from 0 to the top of the plot (the last is the top). */
  yTicks: number[];
  /** Clock times to label on the x axis. */
  xTicks: number[];
  x(ms: number): number;
  y(value: number): number;
}

/** A TimePlot `width` wide whose y axis reaches a round value at or above `max`. */
export function timePlot(
  width: number,
  height: number,
  pad: Padding,
  from: number,
  to: number,
  max: number,
): TimePlot {
  const plotW = Math.max(60, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const span = Math.max(1, to - from);
  const yTicks = niceTicks(max);
  const top = yTicks[yTicks.length - 1];
  return {
    pad,
    height,
    plotW,
    plotH,
    span,
    yTicks,
    xTicks: timeTicks(from, to, Math.max(2, Math.floor(plotW / 70))),
    x: (ms) => pad.left + ((ms - from) / span) * plotW,
    y: (value) => pad.top + plotH - (value / top) * plotH,
  };
}

/** A TimePlot's grid lines with their y values, the y axis title and the clock labels. */
export function TimeGrid({
  plot,
  yLabel,
  format = String,
}: {
  plot: TimePlot;
  yLabel: string;
  format?: (value: number) => string;
}) {
  const { pad, plotW, plotH, x, y } = plot;
  return (
    <>
      {plot.yTicks.map((v) => (
        <g key={v} className="chart-grid">
          <line x1={pad.left} x2={pad.left + plotW} y1={y(v)} y2={y(v)} />
          <text x={pad.left - 6} y={y(v) + 4} textAnchor="end">
            {format(v)}
          </text>
        </g>
      ))}
      <text
        className="chart-axis-label"
        transform={`translate(12 ${pad.top + plotH / 2}) rotate(-90)`}
        textAnchor="middle"
      >
        {yLabel}
      </text>
      {plot.xTicks.map((t) => (
        <g key={t} className="chart-grid">
          <line x1={x(t)} x2={x(t)} y1={pad.top + plotH} y2={pad.top + plotH + 4} />
          <text x={x(t)} y={plot.height - 8} textAnchor={anchor(x(t), pad.left, pad.left + plotW)}>
            {clockLabel(t, plot.span > 86_400_000)}
          </text>
        </g>
      ))}
    </>
  );
}
