import { Link } from 'react-router';
import { ScreenHeader } from '../components/Layout';

/** Any URL the router does not know. */
export function NotFoundScreen() {
  return (
    <section>
      <ScreenHeader title="Not found" />
      <p>
        There is no screen at this address. <Link to="/">Back to the overview</Link>.
      </p>
    </section>
  );
}
