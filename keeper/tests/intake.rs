//! Intake against a real chain (anvil, the real deploy script) and real databases: every bad
//! input is refused with its 4xx JSON error and leaves the queue untouched; a repeated result
//! gets the identical signed reply; a different second output is refused, also after a
//! restart; and the signatures are ones the Slashing contract accepts.

mod world;

use alloy::primitives::{B256, Bytes, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_bindings::contracts::Slashing;
use vouch_keeper::chain::ChainView;
use vouch_keeper::intake::{Intake, IntakeConfig, SubmitReply, router};
use vouch_keeper::queue::{Queue, ResultState};
use vouch_keeper::signing::ResultSigner;
use world::{World, mined};

const TOKEN: &str = "intake-test-token";

/// A running intake server over `db` for the world's host, signing with its operator key.
struct Server {
    base: String,
    queue: Queue,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn operator_key(world: &World) -> PrivateKeySigner {
    world.anvil.keys()[2].clone().into()
}

async fn serve(world: &World, db: &str, token: Option<&str>) -> Server {
    let queue = Queue::open(db).await.unwrap();
    let provider = ProviderBuilder::new()
        .connect_http(world.anvil.endpoint_url())
        .erased();
    let chain = ChainView::new(provider, world.deployment.clone());
    let signer = ResultSigner::new(
        operator_key(world),
        world.deployment.chain_id,
        world.deployment.contracts.slashing,
    );
    let config = IntakeConfig {
        host: world.host,
        token: token.map(str::to_owned),
        max_body: 4096,
    };
    let intake = Intake::new(queue.clone(), chain, signer, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(intake);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { base, queue, task }
}

/// POSTs `body` (raw) with `token`; returns the status and the JSON reply.
async fn post(server: &Server, token: Option<&str>, body: String) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/results", server.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn submit(server: &Server, job: B256, output: Value) -> (StatusCode, Value) {
    let mut body = json!({ "jobId": format!("{job:#x}") });
    body.as_object_mut()
        .unwrap()
        .extend(output.as_object().unwrap().clone());
    post(server, Some(TOKEN), body.to_string()).await
}

/// Asserts a refusal: its status, code and exact message.
fn refused(reply: (StatusCode, Value), status: StatusCode, code: &str, message: &str) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(
        reply.1,
        json!({ "error": { "code": code, "message": message } })
    );
}

async fn depth(queue: &Queue) -> Vec<(ResultState, u64)> {
    queue.depth().await.unwrap().into_iter().collect()
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_4xx_and_nothing_wrong_is_queued() {
    let world = World::new().await;
    let db = vouch_testkit::FreshSqlite::create();
    let server = serve(&world, &db.url, Some(TOKEN)).await;
    let good = world.claimed_jobs(1, "good").await[0];
    let hash = format!("{:#x}", good.output_hash);

    let body = json!({"jobId": format!("{:#x}", good.job_id), "outputHash": hash}).to_string();
    refused(
        post(&server, None, body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "missing bearer token: send `Authorization: Bearer <token>`",
    );
    refused(
        post(&server, Some("not-the-token"), body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "wrong_token",
        "wrong bearer token",
    );
    refused(
        post(&server, Some(TOKEN), "{\"jobId\": \"0x01\",".into()).await,
        StatusCode::BAD_REQUEST,
        "bad_json",
        "the body is not a result: EOF while parsing a value at line 1 column 17",
    );
    refused(
        submit(&server, good.job_id, json!({"outputHash": "0x1234"})).await,
        StatusCode::BAD_REQUEST,
        "bad_output_hash",
        "outputHash \"0x1234\" has 4 hex digits, a 32-byte hash has 64: pass the full hash",
    );
    refused(
        submit(
            &server,
            good.job_id,
            json!({"output": "a", "outputHash": hash}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "output_ambiguous",
        "give exactly one of `output`, `outputHash` and (for a verifiable model's job) `input`",
    );
    refused(
        post(
            &server,
            Some(TOKEN),
            json!({"jobId": "0xzz", "output": "x"}).to_string(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_job_id",
        "jobId \"0xzz\" is not hex (found 'z'): use hex digits 0-9a-f, 0x optional",
    );
    let oversized = json!({"jobId": "0x01", "output": "x".repeat(5000)}).to_string();
    refused(
        post(&server, Some(TOKEN), oversized).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "request body larger than 4096 bytes",
    );
    let unknown = B256::from(U256::from(999_999u64));
    refused(
        submit(&server, unknown, json!({"output": "x"})).await,
        StatusCode::NOT_FOUND,
        "unknown_job",
        &format!("job {unknown} does not exist on this deployment"),
    );
    // A job still open (nobody claimed it).
    let (open, _) = world.create_job("open job").await;
    let open = B256::from(open);
    refused(
        submit(&server, open, json!({"output": "x"})).await,
        StatusCode::CONFLICT,
        "not_claimed",
        &format!("job {open} is open, not claimed: only a claimed job takes a result"),
    );
    // Another host's job: the stranger joins as a host and claims one for itself.
    world
        .join_as_host(world.stranger, "https://h2.vouch.example:8443")
        .await;
    let (theirs, _) = world.create_job("their job").await;
    mined(
        world
            .marketplace()
            .claimJob(theirs, world.stranger)
            .from(world.stranger),
    )
    .await;
    let theirs = B256::from(theirs);
    refused(
        submit(&server, theirs, json!({"output": "x"})).await,
        StatusCode::FORBIDDEN,
        "not_our_job",
        &format!(
            "job {theirs} belongs to host {}, not to this keeper's host {}",
            world.stranger, world.host
        ),
    );

    // The good result is accepted; nothing else was queued.
    let (status, reply) = submit(&server, good.job_id, json!({"outputHash": hash})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let reply: SubmitReply = serde_json::from_value(reply).unwrap();
    assert_eq!(reply.job_id, good.job_id);
    assert_eq!(reply.output_hash, good.output_hash);
    assert_eq!(reply.signer, world.operator);
    assert_eq!(reply.status_url, format!("/v1/results/{:#x}", good.job_id));
    for refused_job in [unknown, open, theirs] {
        assert_eq!(server.queue.get(refused_job).await.unwrap(), None);
    }
    let stored = server.queue.get(good.job_id).await.unwrap().unwrap();
    assert_eq!(stored.state, ResultState::Accepted);
    assert_eq!(stored.model_hash, good.model_hash);
    assert_eq!(stored.input_hash, good.input_hash);
    assert_eq!(stored.signature, reply.signature);

    // The status of a result, and of one never submitted.
    let status: Value = reqwest::Client::new()
        .get(format!("{}{}", server.base, reply.status_url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "accepted");
    assert_eq!(status["txHash"], Value::Null);
    assert_eq!(status["outputHash"], hash);

    // An expired job: claimed in time, its result comes after the deadline.
    let late = world.claimed_jobs(1, "late").await[0];
    world.advance(world::JOB_DURATION + 10).await;
    let now = world.now().await;
    let job = world
        .marketplace()
        .getJob(U256::from_be_bytes(late.job_id.0))
        .call()
        .await
        .unwrap();
    refused(
        submit(&server, late.job_id, json!({"output": "late"})).await,
        StatusCode::GONE,
        "deadline_passed",
        &format!(
            "job {} passed its deadline ({}, chain time {now}): it can no longer be completed",
            late.job_id, job.deadline
        ),
    );
    assert_eq!(server.queue.get(late.job_id).await.unwrap(), None);
    assert_eq!(
        depth(&server.queue).await,
        vec![
            (ResultState::Accepted, 1),
            (ResultState::Proving, 0),
            (ResultState::Submitted, 0),
            (ResultState::Confirmed, 0),
            (ResultState::Failed, 0),
        ]
    );
}

/// The duplicate and the conflicting output, before and after a restart of the keeper (a new
/// queue connection and a new intake over the same PostgreSQL database).
#[tokio::test]
async fn one_output_per_job_holds_across_a_restart() {
    let world = World::new().await;
    let db = vouch_testkit::FreshPostgres::create().await;
    let job = world.claimed_jobs(1, "once").await[0];
    let first = {
        let server = serve(&world, &db.url, Some(TOKEN)).await;
        let (status, first) = submit(&server, job.job_id, json!({"output": "the answer"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        assert_eq!(
            first["outputHash"],
            json!(format!("{:#x}", keccak256("the answer")))
        );
        // The same output again: the identical reply, byte for byte.
        let again = submit(&server, job.job_id, json!({"output": "the answer"})).await;
        assert_eq!(again, (StatusCode::ACCEPTED, first.clone()));
        let by_hash = submit(
            &server,
            job.job_id,
            json!({"outputHash": format!("{:#x}", keccak256("the answer"))}),
        )
        .await;
        assert_eq!(by_hash, (StatusCode::ACCEPTED, first.clone()));
        refused(
            submit(&server, job.job_id, json!({"output": "another answer"})).await,
            StatusCode::CONFLICT,
            "output_conflict",
            &format!(
                "job {} already has a signed result with output {}: this keeper never signs a second output for a job",
                job.job_id,
                keccak256("the answer")
            ),
        );
        first
    };
    // Restarted: the refusal and the stored signature survive.
    let server = serve(&world, &db.url, Some(TOKEN)).await;
    let (status, conflict) = submit(&server, job.job_id, json!({"output": "another answer"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "output_conflict");
    let again = submit(&server, job.job_id, json!({"output": "the answer"})).await;
    assert_eq!(again, (StatusCode::ACCEPTED, first));
    assert_eq!(
        server.queue.depth().await.unwrap()[&ResultState::Accepted],
        1
    );
}

/// The Slashing contract agrees with the keeper's EIP-712 digest and accepts two of its
/// signatures (made directly with the signer, which intake never would for one job) as
/// proof of equivocation.
#[tokio::test]
async fn the_slashing_contract_accepts_the_keepers_signatures() {
    let world = World::new().await;
    let job = world.claimed_jobs(1, "evidence").await[0];
    let signer = ResultSigner::new(
        operator_key(&world),
        world.deployment.chain_id,
        world.deployment.contracts.slashing,
    );
    let slashing = Slashing::new(world.deployment.contracts.slashing, &world.provider);
    let (a, b) = (keccak256("output a"), keccak256("output b"));
    let id = U256::from_be_bytes(job.job_id.0);
    let on_chain = slashing.resultDigest(id, a).call().await.unwrap();
    assert_eq!(on_chain, signer.digest(job.job_id, a));
    let sig_a: Bytes = signer.sign(job.job_id, a).unwrap();
    let sig_b: Bytes = signer.sign(job.job_id, b).unwrap();
    let receipt = mined(
        slashing
            .reportEquivocation(world.host, id, a, sig_a, b, sig_b)
            .from(world.renter),
    )
    .await;
    let proven = receipt
        .decoded_log::<vouch_bindings::contracts::slashing::Slashing::EquivocationProven>()
        .expect("EquivocationProven");
    assert_eq!(proven.jobId, id);
    assert_eq!(proven.host, world.host);
    assert_eq!((proven.outputA, proven.outputB), (a, b));
}
