-- Central's form drafts and form media (issue 14; pyodk's forms.create and forms.update):
-- an XForm uploaded without publishing is a draft of its form in its project until
-- `draft/publish` makes it a form version; the files uploaded to the draft (choice CSVs,
-- images) become that version's media, which Collect downloads through the manifest.
-- The bytes are in attachments, by digest, as submission files are.

-- At most one draft per form and project; its XML as uploaded.
CREATE TABLE odk_form_drafts (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    project_id  uuid NOT NULL,
    form_id     text NOT NULL,
    xml         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, project_id, form_id)
);

-- Media of a draft (version '') or of a published version of a form (by XForm id; a
-- published version is never empty).
CREATE TABLE odk_form_media (
    account_id    uuid NOT NULL REFERENCES accounts (id),
    project_id    uuid NOT NULL,
    form_id       text NOT NULL,
    version       text NOT NULL,
    filename      text NOT NULL,
    sha256        bytea NOT NULL,
    md5           text NOT NULL,
    size          bigint NOT NULL,
    content_type  text NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, project_id, form_id, version, filename)
);
