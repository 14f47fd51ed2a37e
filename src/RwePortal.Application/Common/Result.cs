namespace RwePortal.Application.Common;

/// <summary>An expected failure with a stable code (e.g. <c>Protocol.NotFound</c>) and a message for people.</summary>
public sealed record Error(string Code, string Message)
{
    public static Error Forbidden(string permission) =>
        new("Auth.Forbidden", $"You do not have the permission '{permission}' in this tenant.");

    public static Error Unauthenticated() => new("Auth.Unauthenticated", "Sign in first.");

    public static Error NotFound(string what) => new($"{what}.NotFound", $"{what} was not found.");

    public static Error Validation(IEnumerable<string> messages) =>
        new("Validation.Failed", string.Join(" ", messages));
}

/// <summary>The outcome of a request: a value, or an <see cref="Error"/>. Pages turn failures into messages.</summary>
public sealed record Result<T>
{
    private Result(T? value, Error? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public Error? Error { get; }

    public bool Succeeded => Error is null;

    public static Result<T> Success(T value) => new(value, null);

    public static Result<T> Failure(Error error) => new(default, error);

    public static implicit operator Result<T>(T value) => Success(value);

    public static implicit operator Result<T>(Error error) => Failure(error);

    /// <summary>The value of a successful result; throws for a failure (a bug in the caller).</summary>
    public T Unwrap() => Succeeded
        ? Value!
        : throw new InvalidOperationException($"Result failed: {Error!.Code}: {Error.Message}");
}

/// <summary>Builds a failed <c>Result&lt;T&gt;</c> when only the closed response type is known (pipeline behaviours).</summary>
internal static class ResultFactory
{
    public static bool TryFailure<TResponse>(Error error, out TResponse response)
    {
        var type = typeof(TResponse);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Result<>))
        {
            var failure = type.GetMethod(nameof(Result<int>.Failure))!;
            response = (TResponse)failure.Invoke(null, [error])!;
            return true;
        }

        response = default!;
        return false;
    }
}
