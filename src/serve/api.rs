//! The `/api/` routes behind the three pages (docs/SERVE.md lists them with examples). Each
//! parses its input, calls the library, and answers JSON; an error is `{"error": message}`
//! with the library's message, as the command line prints it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::guard::refuse;
use super::sessions::NotStarted;
use crate::activation::Activation;
use crate::data::Synthetic;
use crate::error::Error;
use crate::explain::{Question, checked, derive_for};
use crate::head::sound_output;
use crate::loss::LossKind;
use crate::workflow::{
    MAX_DELAY_MS, MAX_EPOCHS, MAX_LAYERS, MAX_POINTS, MAX_UNITS, Playground, PlaygroundSpec,
    Progress, Status, list_runs, read_run,
};

/// How often an event stream looks for news.
const TICK: Duration = Duration::from_millis(50);
/// How often a quiet event stream sends a comment (well within the connections' idle limit,
/// [`IDLE_CONNECTION`](super::IDLE_CONNECTION)).
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// The most reads of the runs folder at once.
pub(super) const READERS: usize = 2;

pub(super) fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/options", get(options))
        .route("/api/train", post(start))
        .route("/api/train/{id}", get(progress).delete(forget))
        .route("/api/train/{id}/events", get(events))
        .route("/api/train/{id}/{action}", post(control))
        .route("/api/explain", get(explain))
        .route("/api/runs", get(runs))
        .route("/api/run", get(run))
        .with_state(app)
}

/// A library error as a 400 reply; a refused pairing also says why, the fix, the sound output
/// and where its derivation is.
fn bad_request(error: Error) -> Response {
    let mut body = json!({ "error": error.to_string() });
    if let Error::IncompatibleHead(refusal) = &error {
        let sound = sound_output(refusal.loss);
        body["refusal"] = json!({
            "summary": refusal.summary(),
            "activation": refusal.activation.name(),
            "loss": refusal.loss.to_string(),
            "from": refusal.from.to_string(),
            "undefined": refusal.undefined,
            "fix": refusal.fix,
            "sound_output": sound.name(),
            "explain": format!(
                "/explain?activation={}&loss={}&from={}",
                refusal.activation.name(),
                refusal.loss,
                refusal.from
            ),
        });
    }
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn not_found(what: String) -> Response {
    refuse(StatusCode::NOT_FOUND, what)
}

/// The names each field takes, the playground's defaults and its bounds.
async fn options() -> Json<Value> {
    let names = |all: &mut dyn Iterator<Item = String>| all.collect::<Vec<_>>();
    Json(json!({
        "data": names(&mut Synthetic::NAMES.split(", ").map(str::to_string)),
        "activations": names(&mut Activation::ALL.iter().map(|a| a.name().to_string())),
        "losses": names(&mut LossKind::ALL.iter().map(ToString::to_string)),
        "forms": ["logits", "probabilities", "log-probabilities"],
        "optimizers": names(&mut crate::optim::OptimizerKind::NAMES.split(", ").map(str::to_string)),
        "defaults": PlaygroundSpec::default(),
        "limits": {
            "samples": MAX_POINTS, "layers": MAX_LAYERS, "units": MAX_UNITS,
            "epochs": MAX_EPOCHS, "delay_ms": MAX_DELAY_MS,
        },
    }))
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    paused: bool,
}

/// `POST /api/train[?paused=true]` with a [`PlaygroundSpec`]: 201 and the training's number.
async fn start(
    State(app): State<Arc<App>>,
    Query(query): Query<StartQuery>,
    body: Bytes,
) -> Response {
    let spec = match PlaygroundSpec::from_json(&body) {
        Ok(spec) => spec,
        Err(error) => return bad_request(error),
    };
    match app.sessions.start(&spec, query.paused) {
        Ok((id, run)) => (
            StatusCode::CREATED,
            Json(json!({ "id": id, "progress": run.progress() })),
        )
            .into_response(),
        Err(NotStarted::Refused(error)) => bad_request(error),
        Err(NotStarted::TooMany) => refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} trainings are running, the most at once: stop one (Reset) first",
                super::MAX_TRAININGS
            ),
        ),
    }
}

/// The reply for a training number that is not (or no longer) there.
fn missing(id: u64) -> Response {
    not_found(format!("no training {id} (it may have been idle too long)"))
}

/// `GET /api/train/{id}`: everything it has reported.
async fn progress(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    match app.sessions.get(id) {
        Some(run) => Json(run.progress()).into_response(),
        None => missing(id),
    }
}

/// `DELETE /api/train/{id}`: stops and forgets it.
async fn forget(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    if app.sessions.remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(format!("no training {id}"))
    }
}

/// `POST /api/train/{id}/{pause|resume|step|stop}`.
async fn control(State(app): State<Arc<App>>, Path((id, action)): Path<(u64, String)>) -> Response {
    let Some(run) = app.sessions.get(id) else {
        return missing(id);
    };
    match action.as_str() {
        "pause" => run.pause(),
        "resume" => run.resume(),
        "step" => run.step(),
        "stop" => run.stop(),
        other => {
            return not_found(format!("no action '{other}': pause, resume, step or stop"));
        }
    }
    Json(json!({ "status": run.progress().status })).into_response()
}

/// The part of `progress` a page has not seen: epochs from `from` on, the latest boundary.
fn update(progress: &Progress, from: usize) -> Value {
    json!({
        "status": progress.status,
        "version": progress.version,
        "epochs_from": from,
        "epochs": progress.epochs.get(from..).unwrap_or_default(),
        "boundary": progress.boundary,
        "test_accuracy": progress.test_accuracy,
        "error": progress.error,
    })
}

/// `GET /api/train/{id}/events`: server-sent events, `progress` first (everything), then an
/// `update` whenever something changed, until training is over.
async fn events(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    let Some(run) = app.sessions.get(id) else {
        return missing(id);
    };
    Sse::new(event_stream(app, id, run))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

struct Watch {
    app: Arc<App>,
    id: u64,
    run: Arc<Playground>,
    version: Option<u64>,
    sent_epochs: usize,
    over: bool,
}

fn event_stream(
    app: Arc<App>,
    id: u64,
    run: Arc<Playground>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let watch = Watch {
        app,
        id,
        run,
        version: None,
        sent_epochs: 0,
        over: false,
    };
    futures_util::stream::unfold(watch, |mut w| async move {
        if w.over {
            return None;
        }
        loop {
            // Watching keeps the training from being stopped as idle.
            w.app.sessions.get(w.id)?;
            let version = w.run.version();
            if w.version != Some(version) {
                let progress = w.run.progress();
                let event = match w.version {
                    None => Event::default().event("progress").json_data(&progress),
                    Some(_) => Event::default()
                        .event("update")
                        .json_data(update(&progress, w.sent_epochs)),
                };
                w.version = Some(progress.version);
                w.sent_epochs = progress.epochs.len();
                w.over = matches!(
                    progress.status,
                    Status::Finished | Status::Stopped | Status::Failed
                );
                let event =
                    event.unwrap_or_else(|e| Event::default().event("error").data(e.to_string()));
                return Some((Ok(event), w));
            }
            tokio::time::sleep(TICK).await;
        }
    })
}

#[derive(Deserialize)]
struct ExplainQuery {
    activation: String,
    loss: Option<String>,
    from: Option<String>,
    targets: Option<String>,
}

/// `GET /api/explain?activation=…[&loss=…][&from=…][&targets=…]`: the derivation, each step
/// machine-checked, as `nabla explain --format json` prints it.
async fn explain(Query(query): Query<ExplainQuery>) -> Response {
    let question = Question::named(
        &query.activation,
        query.loss.as_deref().filter(|l| !l.is_empty()),
        query.from.as_deref().filter(|f| !f.is_empty()),
        query.targets.as_deref().unwrap_or("hard"),
    );
    let question = match question {
        Ok(question) => question,
        Err(error) => return bad_request(error),
    };
    let derived = tokio::task::spawn_blocking(move || {
        let derivation = derive_for(&question);
        let report = checked(&derivation, crate::explain::DEFAULT_CHECK_POINTS);
        crate::explain::json(&derivation, &report)
    })
    .await;
    match derived {
        Ok(value) => Json(value).into_response(),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the derivation failed".into(),
        ),
    }
}

/// `GET /api/runs`: the metrics files under `--runs`.
async fn runs(State(app): State<Arc<App>>) -> Response {
    let listed = reading(&app, list_runs).await;
    match listed {
        Ok(runs) => Json(json!({ "runs": runs })).into_response(),
        Err(error) => bad_request(error),
    }
}

/// Runs `read` on the runs folder off the async workers, at most [`READERS`] at a time (each
/// reply is bounded, so the memory of all of them is too).
async fn reading<T: Send + 'static>(
    app: &Arc<App>,
    read: impl FnOnce(&std::path::Path) -> crate::error::Result<T> + Send + 'static,
) -> crate::error::Result<T> {
    let _permit = app.readers.acquire().await;
    let folder = app.runs.clone();
    tokio::task::spawn_blocking(move || read(&folder))
        .await
        .unwrap_or_else(|_| Err(Error::invalid("runs", "reading the runs folder failed")))
}

#[derive(Deserialize)]
struct RunQuery {
    name: String,
    #[serde(default)]
    from: usize,
}

/// `GET /api/run?name=…[&from=N]`: a run's epochs from complete line N on, in bounded
/// replies (`more`: ask again from `next`); a name outside `--runs` is refused with 400.
async fn run(State(app): State<Arc<App>>, Query(query): Query<RunQuery>) -> Response {
    let RunQuery { name, from } = query;
    let read = reading(&app, move |folder| read_run(folder, &name, from)).await;
    match read {
        Ok(records) => Json(records).into_response(),
        Err(error) => bad_request(error),
    }
}
