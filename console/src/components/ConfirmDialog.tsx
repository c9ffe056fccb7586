import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';
import { ErrorBanner } from './Banner';

/**
 * A modal dialog (native <dialog>: focus is trapped, Escape cancels) for confirmations and
 * small forms. `children` is extra content (a form's fields); the confirm button submits.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel = 'Confirm',
  danger = false,
  busy = false,
  error,
  onConfirm,
  onCancel,
  testId = 'confirm-dialog',
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const titleId = `${testId}-title`;
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      {open && (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            onConfirm();
          }}
        >
          <h2 id={titleId}>{title}</h2>
          <div className="dialog-body">{children}</div>
          <ErrorBanner error={error} />
          <div className="dialog-actions">
            <button type="button" onClick={onCancel} disabled={busy}>
              Cancel
            </button>
            <button
              type="submit"
              className={danger ? 'button-danger' : 'button-primary'}
              disabled={busy}
              data-testid={`${testId}-confirm`}
            >
              {busy ? 'Working…' : confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
