import Link from "next/link";

export default function Home() {
  return (
    <section className="card">
      <h1>Your tasks, behind Tessera</h1>
      <p>
        This app signs you in with Tessera through Better Auth&apos;s React client, takes a short-lived access
        token from Tessera, and sends it to a separate FastAPI backend that keeps your tasks.
      </p>
      <div className="row">
        <Link className="button" href="/sign-up">
          Create an account
        </Link>
        <Link className="button secondary" href="/sign-in">
          Sign in
        </Link>
        <Link className="button secondary" href="/tasks">
          My tasks
        </Link>
      </div>
    </section>
  );
}
