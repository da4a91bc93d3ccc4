//! The queue's age (`Queue::oldest_unsettled`, exported as `vouch_keeper_queue_oldest_seconds`)
//! on SQLite and PostgreSQL: the acceptance time of the oldest result still accepted, proving or
//! submitted; confirmed and failed results do not count.

use alloy::primitives::{B256, Bytes};
use vouch_keeper::queue::{Inserted, Queue, QueuedResult, ResultState};

fn result(n: u8, accepted_at: u64) -> QueuedResult {
    QueuedResult {
        job_id: B256::repeat_byte(n),
        model_hash: B256::repeat_byte(0xaa),
        input_hash: B256::repeat_byte(0xbb),
        output_hash: B256::repeat_byte(0xcc),
        deadline: 10_000,
        signature: Bytes::from(vec![n; 65]),
        state: ResultState::Accepted,
        tx_hash: None,
        reason: None,
        accepted_at,
        inference: None,
    }
}

async fn the_oldest_unsettled_result_gives_the_queue_its_age(url: &str) {
    let queue = Queue::open(url).await.unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), None);
    // Inserted out of order: the age follows accepted_at, not the insertion order.
    for (n, at) in [(2, 200), (1, 100), (3, 300)] {
        assert!(matches!(
            queue.insert(&result(n, at)).await.unwrap(),
            Inserted::New(_)
        ));
    }
    assert_eq!(queue.oldest_unsettled().await.unwrap(), Some(100));
    let (one, two, three) = (
        B256::repeat_byte(1),
        B256::repeat_byte(2),
        B256::repeat_byte(3),
    );
    // Proving and submitted are still unsettled.
    queue
        .set_state(&[one], ResultState::Proving, None, None)
        .await
        .unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), Some(100));
    queue
        .set_state(
            &[one],
            ResultState::Submitted,
            Some(B256::repeat_byte(9)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), Some(100));
    queue
        .set_state(
            &[one],
            ResultState::Confirmed,
            Some(B256::repeat_byte(9)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), Some(200));
    queue
        .set_state(&[two], ResultState::Failed, None, Some("deadline passed"))
        .await
        .unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), Some(300));
    queue
        .set_state(
            &[three],
            ResultState::Confirmed,
            Some(B256::repeat_byte(9)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(queue.oldest_unsettled().await.unwrap(), None);
}

#[tokio::test]
async fn queue_age_on_sqlite() {
    let db = vouch_testkit::FreshSqlite::create();
    the_oldest_unsettled_result_gives_the_queue_its_age(&db.url).await;
}

#[tokio::test]
async fn queue_age_on_postgres() {
    let db = vouch_testkit::FreshPostgres::create().await;
    the_oldest_unsettled_result_gives_the_queue_its_age(&db.url).await;
}
