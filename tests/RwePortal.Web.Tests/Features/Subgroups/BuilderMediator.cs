using MediatR;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>
/// A mediator that records what the builder sends, with the token each request was sent with, and answers per request
/// type, possibly asynchronously (a slow count that only ends when it is cancelled).
/// </summary>
internal sealed class BuilderMediator : IMediator
{
    private readonly Dictionary<Type, Func<object, CancellationToken, Task<object>>> _answers = [];

    public List<(object Request, CancellationToken Token)> Sent { get; } = [];

    public BuilderMediator Answer<TRequest, TResponse>(Func<TRequest, TResponse> answer)
        where TRequest : IRequest<TResponse> =>
        AnswerAsync<TRequest, TResponse>((request, _) => Task.FromResult(answer(request)));

    public BuilderMediator AnswerAsync<TRequest, TResponse>(Func<TRequest, CancellationToken, Task<TResponse>> answer)
        where TRequest : IRequest<TResponse>
    {
        _answers[typeof(TRequest)] = async (request, token) => (await answer((TRequest)request, token))!;
        return this;
    }

    public IEnumerable<T> SentOf<T>() => Sent.Select(s => s.Request).OfType<T>();

    public async Task<TResponse> Send<TResponse>(IRequest<TResponse> request, CancellationToken cancellationToken = default)
    {
        Sent.Add((request, cancellationToken));
        return _answers.TryGetValue(request.GetType(), out var answer)
            ? (TResponse)await answer(request, cancellationToken)
            : throw new InvalidOperationException($"No canned answer for {request.GetType().FullName}.");
    }

    public Task Publish<TNotification>(TNotification notification, CancellationToken cancellationToken = default)
        where TNotification : INotification => Task.CompletedTask;
}
