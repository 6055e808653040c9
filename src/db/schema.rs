//! The tables, written by hand on the types both backends share (see STACK.md):
//! text ids, `Timestamp` in UTC set from Rust, `BigInt`/`Integer` counters.

diesel::table! {
    resource_directories (id) {
        id -> Text,
        root_folder_id -> Text,
        master_account_id -> Text,
        master_account_name -> Text,
        created_at -> Timestamp,
        contact_quota -> Integer,
    }
}

diesel::table! {
    folders (id) {
        id -> Text,
        name -> Text,
        parent_id -> Nullable<Text>,
        depth -> Integer,
        path -> Text,
        created_at -> Timestamp,
        member_count -> BigInt,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        display_name -> Text,
        account_name -> Text,
        folder_id -> Nullable<Text>,
        security_email -> Nullable<Text>,
        join_method -> Text,
        joined_at -> Timestamp,
        modified_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admins (id) {
        id -> Integer,
        username -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        session_epoch -> Integer,
        role -> Text,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Text,
        secret_sealed -> Text,
        created_at -> Timestamp,
        description -> Text,
        created_by -> Text,
        role -> Text,
        status -> Text,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_nonces (nonce) {
        nonce -> Text,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        progress_done -> BigInt,
        progress_total -> BigInt,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        priority -> Integer,
        finished_at -> Nullable<Timestamp>,
        about -> Nullable<Text>,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        email -> Text,
        pending_email -> Nullable<Text>,
        phone -> Nullable<Text>,
        title -> Text,
        message_types -> Integer,
        status -> Text,
        verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        modified_at -> Timestamp,
        deletion_failed_at -> Nullable<Timestamp>,
        reconfirm_sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        seq -> Nullable<BigInt>,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Text,
        actor_name -> Text,
        via -> Text,
        request_id -> Nullable<Text>,
        action -> Text,
        target_id -> Text,
        related_id -> Nullable<Text>,
        changes -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    bounces (address_key) {
        address_key -> Text,
        address -> Text,
        bounced_at -> Timestamp,
        answer -> Text,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
        purged_seq -> BigInt,
        purged_hash -> Text,
    }
}

diesel::table! {
    association_counts (contact_id) {
        contact_id -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    contact_verifications (id) {
        id -> BigInt,
        contact_id -> Nullable<Text>,
        address -> Text,
        address_key -> Text,
        token_hash -> Text,
        requested_by -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    associations (account_id, contact_id) {
        account_id -> Text,
        contact_id -> Text,
        associated_at -> Timestamp,
        mc_opt_out -> Integer,
        mc_removed_at -> Nullable<Timestamp>,
        retained_types -> Integer,
    }
}

diesel::table! {
    bindings (id) {
        id -> BigInt,
        contact_id -> Text,
        target_id -> Text,
        target_kind -> Text,
        target_key -> Text,
        folder_path -> Nullable<Text>,
        account_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    unbind_tasks (job_id) {
        job_id -> BigInt,
        contact_id -> Text,
        target_id -> Text,
        folder_path -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mc_recipients (id) {
        id -> BigInt,
        account_id -> Text,
        name -> Text,
        email -> Text,
        message_types -> Integer,
        created_at -> Timestamp,
        modified_at -> Timestamp,
        verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    member_users (id) {
        id -> BigInt,
        account_id -> Text,
        email -> Text,
        email_key -> Text,
        password_hash -> Nullable<Text>,
        invited_by -> Text,
        created_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        session_epoch -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        state -> Text,
        admin_id -> Nullable<Integer>,
        member_user_id -> Nullable<BigInt>,
        epoch -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    mc_recipient_verifications (id) {
        id -> BigInt,
        recipient_id -> BigInt,
        address -> Text,
        token_hash -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_events (id) {
        id -> BigInt,
        scope -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    admin_invitations (id) {
        id -> BigInt,
        admin_id -> Integer,
        email -> Text,
        invited_by -> Text,
        token_hash -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    member_invitations (id) {
        id -> BigInt,
        member_user_id -> BigInt,
        token_hash -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        message_type -> Text,
        subject -> Text,
        content -> Text,
        target_id -> Text,
        members -> BigInt,
        requested_by -> Text,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        gave_up -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_counts (notification_id) {
        notification_id -> BigInt,
        pending -> BigInt,
        sending -> BigInt,
        sent -> BigInt,
        retrying -> BigInt,
        failed -> BigInt,
        skipped -> BigInt,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        notification_id -> BigInt,
        account_id -> Text,
        address -> Text,
        address_key -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deletion_fail_reasons (contact_id, account_id) {
        contact_id -> Text,
        account_id -> Text,
        message_types -> Integer,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    tags (resource_type, resource_id, tag_key) {
        resource_type -> Text,
        resource_id -> Text,
        tag_key -> Text,
        tag_value -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(deliveries -> notifications (notification_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(accounts -> folders (folder_id));
diesel::joinable!(associations -> contacts (contact_id));
diesel::joinable!(association_counts -> contacts (contact_id));
diesel::joinable!(delivery_counts -> notifications (notification_id));
diesel::joinable!(bindings -> contacts (contact_id));
diesel::joinable!(associations -> accounts (account_id));
diesel::joinable!(mc_recipients -> accounts (account_id));
diesel::joinable!(mc_recipient_verifications -> mc_recipients (recipient_id));
diesel::joinable!(member_invitations -> member_users (member_user_id));
diesel::joinable!(admin_invitations -> admins (admin_id));
diesel::joinable!(contact_verifications -> contacts (contact_id));
diesel::joinable!(deletion_fail_reasons -> contacts (contact_id));
diesel::allow_tables_to_appear_in_same_query!(
    tags,
    resource_directories,
    folders,
    accounts,
    admins,
    access_keys,
    api_nonces,
    jobs,
    contacts,
    contact_verifications,
    associations,
    association_counts,
    audit_events,
    audit_chain,
    bounces,
    mc_recipients,
    member_users,
    member_invitations,
    admin_invitations,
    bindings,
    unbind_tasks,
    notifications,
    deliveries,
    delivery_counts,
    delivery_attempts,
    deletion_fail_reasons,
    sessions,
    rate_events,
    mc_recipient_verifications
);
